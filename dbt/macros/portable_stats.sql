{#-
    Distribution functions in plain SQL, for the A/B statistics on engines without the scipy Python model
    (models/intermediate/campaigns/spark/int_ab_test_statistics_sql.sql). Each is an expression over
    arithmetic, exp, ln and sqrt only, so every engine evaluates it the same way.
-#}

{#- erfc(x) for x >= 0: Chebyshev fit of W. H. Press et al., Numerical Recipes (2nd ed., 6.2, erfcc),
    fractional error below 1.2e-7 everywhere (so a p-value keeps 6 significant digits, however small). -#}
{% macro erfc_nonnegative(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * (' ~ x ~ ')))' -%}
    ({{ t }} * exp(
        -({{ x }}) * ({{ x }}) - 1.26551223
        + {{ t }} * (1.00002368 + {{ t }} * (0.37409196 + {{ t }} * (0.09678418 + {{ t }} * (-0.18628806
        + {{ t }} * (0.27886807 + {{ t }} * (-1.13520398 + {{ t }} * (1.48851587 + {{ t }} * (-0.82215223
        + {{ t }} * 0.17087277))))))))
    ))
{%- endmacro %}

{#- Two-sided normal tail P(|Z| >= |z|) = erfc(|z| / sqrt 2). -#}
{% macro normal_two_sided_p(z) -%}
    {{ erfc_nonnegative('abs(' ~ z ~ ') / sqrt(2.0)') }}
{%- endmacro %}

{#- The standard normal quantile of a constant p in (0, 1): P. J. Acklam's rational approximation
    (relative error below 1.15e-9), evaluated by the engine. -#}
{% macro normal_quantile(p) -%}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] -%}
    {%- set low = 0.02425 -%}
    {%- if p < low or p > 1 - low -%}
        {%- set q = 'sqrt(-2.0 * ln(' ~ (p if p < low else 1 - p) ~ '))' -%}
        ({{ '' if p < low else '-' }}(((((({{ c[0] }} * {{ q }} + {{ c[1] }}) * {{ q }} + {{ c[2] }}) * {{ q }} + {{ c[3] }}) * {{ q }} + {{ c[4] }}) * {{ q }} + {{ c[5] }})
            / (((({{ d[0] }} * {{ q }} + {{ d[1] }}) * {{ q }} + {{ d[2] }}) * {{ q }} + {{ d[3] }}) * {{ q }} + 1.0)))
    {%- else -%}
        {%- set q = p - 0.5 -%}
        {%- set r = q * q -%}
        ((((((({{ a[0] }} * {{ r }} + {{ a[1] }}) * {{ r }} + {{ a[2] }}) * {{ r }} + {{ a[3] }}) * {{ r }} + {{ a[4] }}) * {{ r }} + {{ a[5] }}) * {{ q }})
            / ((((({{ b[0] }} * {{ r }} + {{ b[1] }}) * {{ r }} + {{ b[2] }}) * {{ r }} + {{ b[3] }}) * {{ r }} + {{ b[4] }}) * {{ r }} + 1.0))
    {%- endif -%}
{%- endmacro %}

{#- ln(m!) for an integer m >= 0: exact below 10, else Stirling's series to the m^-7 term (absolute error
    below 1e-12 from m = 10). -#}
{% macro log_factorial(m) -%}
    case
        when {{ m }} < 2 then 0.0
        {%- set ns = namespace(product=1) %}
        {%- for k in range(2, 10) %}
        {%- set ns.product = ns.product * k %}
        when {{ m }} = {{ k }} then ln({{ ns.product }}.0)
        {%- endfor %}
        else ({{ m }}) * ln({{ m }}) - ({{ m }}) + 0.5 * ln(2.0 * pi() * ({{ m }}))
            + 1.0 / (12.0 * ({{ m }})) - 1.0 / (360.0 * power({{ m }}, 3)) + 1.0 / (1260.0 * power({{ m }}, 5))
            - 1.0 / (1680.0 * power({{ m }}, 7))
    end
{%- endmacro %}

{#- Chi-square survival function P(X >= x) for integer degrees of freedom 1 .. max_df (closed forms:
    even df, exp(-x/2) times the Poisson sum; odd df, erfc(sqrt(x/2)) plus the odd-order series), 0 for an
    infinite x, null beyond max_df. -#}
{% macro chi_square_sf(x, df, max_df=30) -%}
    case
        when {{ x }} is null or {{ df }} is null or {{ df }} < 1 then null
        when {{ x }} = cast('Infinity' as double) then 0.0
        when {{ x }} <= 0 then 1.0
        {%- for k in range(1, max_df + 1) %}
        when {{ df }} = {{ k }} then
            {%- if k % 2 == 0 %}
            exp(-({{ x }}) / 2.0) * (1.0
                {%- set ns = namespace(factorial=1) %}
                {%- for i in range(1, k // 2) %}
                {%- set ns.factorial = ns.factorial * i %}
                + power(({{ x }}) / 2.0, {{ i }}) / {{ ns.factorial }}.0
                {%- endfor %})
            {%- else %}
            {{ erfc_nonnegative('sqrt((' ~ x ~ ') / 2.0)') }}
                {%- set ns = namespace(odd_product=1) %}
                {%- for i in range(1, (k - 1) // 2 + 1) %}
                {%- set ns.odd_product = ns.odd_product * (2 * i - 1) %}
                + sqrt(2.0 / pi()) * exp(-({{ x }}) / 2.0) * power({{ x }}, {{ i }} - 0.5) / {{ ns.odd_product }}.0
                {%- endfor %}
            {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}
