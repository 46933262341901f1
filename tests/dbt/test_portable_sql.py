"""The cheap guard of the Spark port: every model and data test compiled for the Spark target (``dbt compile
--target spark``, a local Spark session with an empty warehouse: nothing is built) must be SQL Spark reads,
with no DuckDB-only function or type outside the dispatch macros (macros/portable_sql.sql).

Each compiled statement is parsed with sqlglot's Spark dialect; every name called as a function must be a
Spark SQL function (the names ``pyspark.sql.functions`` exposes, plus the few listed in ``SQL_ONLY``), and
every type in a cast must be one Spark has. A ``duckdb__`` / ``default__`` implementation never reaches this
output, so what fails here is DuckDB SQL written where both engines read it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot.dialects.spark import Spark
from sqlglot.tokens import TokenType

from core.paths import data_paths
from transform.dbt import run_dbt
from transform.spark import SMALL_BUILD_ENV, spark_env

# The guard's own test runs in `make test`; compiling the project for Spark starts a JVM and dbt-spark (about
# a minute on two cores), so the compiled-project tests carry the `spark` marker and run in CI's Spark step
# (`make spark-check-tests`), beside the Spark proof, where a missing Java runtime fails instead of skipping.

# Spark SQL functions that pyspark.sql.functions does not expose under the same name.
SQL_ONLY = {"if", "cast"}
# Type names a Spark cast accepts.
SPARK_TYPE_NAMES = {
    "string", "int", "integer", "bigint", "smallint", "tinyint", "double", "float", "decimal", "date",
    "timestamp", "timestamp_ntz", "timestamp_ltz", "boolean", "binary", "array", "struct", "map",
}
# Besides plain names: keywords that DuckDB calls like functions (row(...), list(...)).
CALLED_KEYWORDS = {TokenType.VAR, TokenType.ROW, TokenType.LIST}


def spark_function_names() -> set[str]:
    from pyspark.sql import functions

    names = {name.lower() for name, value in vars(functions).items() if callable(value) and not name.startswith("_")}
    return names | SQL_ONLY


def portability_problems(sql: str, known_functions: set[str]) -> list[str]:
    """What Spark would not accept in ``sql``: a parse error, a call of a function Spark lacks, a cast to
    a type it lacks (``as varchar``: sqlglot's Spark dialect would read it as string, Spark does not)."""
    try:
        sqlglot.parse(sql, read="spark")
    except sqlglot.errors.ParseError as error:
        return [f"Spark's dialect does not parse it: {str(error).splitlines()[0]}"]
    tokens = sqlglot.tokenize(sql, read="spark")
    type_tokens = Spark.parser_class.TYPE_TOKENS
    problems = set()
    for previous, token, following in zip(tokens, tokens[1:], tokens[2:], strict=False):
        name = token.text.lower()
        if token.token_type in CALLED_KEYWORDS and following.token_type == TokenType.L_PAREN:
            if name not in known_functions:
                problems.add(f"function {name}() is not a Spark function")
        elif (previous.token_type == TokenType.ALIAS and token.token_type in type_tokens
              and following.token_type in (TokenType.R_PAREN, TokenType.L_PAREN)  # a cast's type, not `as variant,`
              and name not in SPARK_TYPE_NAMES):
            problems.add(f"type {name} is not a Spark type")
    return sorted(problems)


@pytest.fixture(scope="module")
def spark_compiled(spark_can_start, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project compiled for the Spark target (models and data tests, not unit tests)."""
    root = tmp_path_factory.mktemp("spark_compile")
    paths = data_paths(root / "data")
    paths.root.mkdir(parents=True)
    target = root / "target"
    compiled = run_dbt(
        ["compile", "--target", "spark", "--exclude", "test_type:unit"],
        data_dir=paths.root,
        target_path=target,
        env={**spark_env(paths, []), **SMALL_BUILD_ENV},
        check=False,
    )
    assert compiled.success, f"dbt compile --target spark failed:\n{compiled.output[-4000:]}"
    return target / "compiled" / "repurchase"


def test_the_guard_catches_duckdb_only_sql() -> None:
    known = spark_function_names()
    assert portability_problems("select max_by(a, b), instr(c, ':') from t", known) == []
    assert portability_problems("select cast(a as string), cast(b as decimal(20, 0)) from t", known) == []
    assert portability_problems("select arg_max(a, b) from t", known) == ["function arg_max() is not a Spark function"]
    assert portability_problems("select strpos(c, ':') from t", known) == ["function strpos() is not a Spark function"]
    assert portability_problems("select cast(a as varchar) from t", known) == ["type varchar is not a Spark type"]
    assert portability_problems("select cast(a as hugeint) from t", known) == ["type hugeint is not a Spark type"]
    assert portability_problems("select min_by(a, row(b, a)) from t", known) == ["function row() is not a Spark function"]
    assert portability_problems("select a::date from t", known) == []  # Spark 4 reads :: too
    assert portability_problems("select a as variant, b as date from t", known) == []  # aliases, not types


@pytest.mark.e2e
@pytest.mark.spark
def test_every_compiled_model_and_test_is_spark_sql(spark_compiled: Path) -> None:
    known = spark_function_names()
    files = sorted(spark_compiled.rglob("*.sql"))
    models = [path for path in files if "/models/" in path.as_posix()]
    # Every SQL model is compiled (58 model files less the two Python models, whose SQL twins compile).
    assert len(models) >= 55, f"only {len(models)} compiled models under {spark_compiled}"
    problems = {
        path.relative_to(spark_compiled).as_posix(): found
        for path in files
        if (found := portability_problems(path.read_text(encoding="utf-8"), known))
    }
    assert not problems, "\n".join(f"{name}: {'; '.join(found)}" for name, found in problems.items())


@pytest.mark.e2e
@pytest.mark.spark
def test_kpi_monthly_compiles_small_on_spark(spark_compiled: Path) -> None:
    # dbt-spark's own dateadd / datediff expand to pages of SQL; nested in the KPI macros they made
    # kpi_monthly 5.7 MB. With the dispatched date macros it is about 20 KB (11 KB on DuckDB).
    compiled = next(spark_compiled.rglob("kpi_monthly.sql"))
    assert compiled.stat().st_size < 100_000, f"kpi_monthly compiles to {compiled.stat().st_size} bytes on Spark"
