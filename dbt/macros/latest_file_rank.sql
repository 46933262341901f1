{#-
    Rank the export files a natural key appears in, most recently loaded first (1 = keep).

    Merchants re-export overlapping date ranges, so the same order can arrive in several files; the
    latest loaded file carries the latest status and refunds. All rows of a key from the winning file get
    rank 1 (dense_rank), so legitimate repeated lines inside one file survive. Ties on load time (files
    loaded in one run) are broken by file name, then by file hash, so the choice is deterministic.
-#}
{% macro latest_file_rank(partition_by) -%}
    dense_rank() over (
        partition by {{ partition_by }}
        order by _loaded_at desc, _file_name desc, _file_sha256 desc
    )
{%- endmacro %}
