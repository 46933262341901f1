{#- The KPIs of kpi_monthly / kpi_quarterly (marts_kpi_mart, from the rows marts_kpi_model keeps in
    int_kpi_*_cells and int_kpi_*_segments): one row per period x (dimension, dimension_value), from the
    first period a dimension value has purchases to the period containing as_of (the last period is
    partial: is_complete false). Dimensions: overall/all, channel/<channel>, store/<channel>:<shop id>
    (store_channel, store_name beside it), rfm_segment/<segment as of as_of>. Definitions:
      customers                 identified customers with a purchase in the cell
      new_customers             ... whose first purchase ever (any channel) is in the period
      repurchasing_customers    ... with a purchase in the cell that is not their first purchase ever
      repurchase_rate           repurchasing_customers / customers (a customer whose first purchase ever
                                and a repurchase both fall in the period counts in new_customers and in
                                repurchasing_customers)
      multi_purchase_customers  ... with >= 2 purchases in the cell
      repurchase_rate_within_period  multi_purchase_customers / customers
      active_at_start / active_at_end / retained_customers: active = a purchase in the cell's scope in
                                the lifecycle_active_days days up to and including the reference day;
                                start = the day before the period, end = the period's last day (as_of
                                for the partial period); retained = active at both
      retention_rate_of_start_active  retained_customers / active_at_start (0..1)
      active_customer_ratio     active_at_end / active_at_start (the playbook's ratio; > 1 when the
                                active base grew)
      repurchases               purchases in the cell that are not the customer's first ever
      avg_repurchase_frequency  repurchases / repurchasing_customers
      orders                    all purchases in the cell (unresolved customers included)
      net_revenue               their net amounts plus the money moved by the cell's orders that are not
                                purchases (a return beyond its sale, a refund whose sale is not in the
                                data): the one net-spend rule, summed without a floor
      aov                       net_revenue / orders
      identified_order_share / identified_revenue_share  orders / net revenue of the cell with a
                                customer_id over all of the cell's (what the customer rates cover)
      clv                       marts_clv_window: trailing 12 months ending at the period end (as_of for
                                the partial period), identified purchases of the cell's scope
      is_history_complete       period_start >= first purchase date in the data + kpi_history_months
-#}
{#- The KPI columns after the keys (period_start, period_end, is_complete, dimension, dimension_value) and
    the store columns, in the marts' order. -#}
{% macro marts_kpi_metric_columns() -%}
    {{ return([
        'is_history_complete', 'customers', 'new_customers', 'repurchasing_customers', 'repurchase_rate',
        'multi_purchase_customers', 'repurchase_rate_within_period', 'active_at_start', 'retained_customers',
        'retention_rate_of_start_active', 'active_at_end', 'active_customer_ratio', 'repurchases',
        'avg_repurchase_frequency', 'orders', 'net_revenue', 'aov', 'identified_order_share',
        'identified_revenue_share', 'clv_window_customers', 'annual_purchase_frequency', 'clv',
    ]) }}
{%- endmacro %}

{#- Dimensions whose cells depend on the purchases of their period's window only (incremental by period,
    int_kpi_monthly_cells / int_kpi_quarterly_cells). rfm_segment groups by today's segment: its rows
    (int_kpi_monthly_segments / int_kpi_quarterly_segments) also move with the customers who changed
    segment. -#}
{% macro marts_kpi_period_dimensions() -%}
    {{ return(['overall', 'channel', 'store']) }}
{%- endmacro %}

{#- The additive parts of a KPI row: sums over the cell's customers and orders, from which
    marts_kpi_computed derives the rates. What a customer adds to a cell depends on their own rows only
    (each customer's rows of one dimension value), so the parts of a set of customers can be added to
    or taken from a stored row. -#}
{% macro marts_kpi_sum_columns() -%}
    {{ return([
        'customers', 'new_customers', 'repurchasing_customers', 'multi_purchase_customers', 'repurchases',
        'active_at_start', 'retained_customers', 'active_at_end', 'orders', 'net_revenue',
        'identified_orders', 'identified_revenue', 'clv_window_customers', 'clv_window_orders',
        'clv_window_revenue',
    ]) }}
{%- endmacro %}

{#- The KPI rows of the incremental models (see the definitions above), one row per period x (dimension,
    dimension_value), each with inputs_fingerprint: what its values depend on (the fingerprints of the
    months of purchases and money-back orders from 13 months before the period to its end, its
    reference days, history flag and the vars).
      cells mode (sums false; int_kpi_*_cells: overall, channel, store): the rows' KPI columns. An
                  incremental build recomputes only the periods whose fingerprint changed or whose
                  (dimension, dimension_value) rows differ from the grid (a dimension value's first
                  period moved), from the purchases of their windows; the other periods keep their rows
                  (delete+insert on period_start).
      segments mode (sums true; int_kpi_*_segments: rfm_segment): the rows' additive parts
                  (marts_kpi_sum_columns), grouped by the segment each customer has now
                  (int_customer_segment_history's open rows). An incremental build recomputes the same
                  periods as the cells, plus every period when the history no longer holds the segments of
                  this model's last build, or that was not current then (an as_of moved back and forward
                  again). Every other current period keeps its rows with the parts of the customers whose
                  segment changed since this model's last build moved: what they add under the segment
                  they had then is taken away and what they add under today's is added. Those periods'
                  rows are rewritten (restamped) every build, so each current period is as of the last
                  build; `_computed_at` says when a period was last recomputed from its purchases.
-#}
{% macro marts_kpi_model(period, dimensions=none, sums=false) -%}
{%- set dimensions = dimensions or marts_kpi_period_dimensions() -%}
{%- set active_days = var('lifecycle_active_days') -%}
{%- set incremental = is_incremental() -%}
{%- set segment_history = ref('int_customer_segment_history') if 'rfm_segment' in dimensions else none -%}
{%- if incremental and sums %}
{%- set since = stored_stamp(this) %}
{%- endif %}

{#- The purchases are read from the table by each use (a CTE read several times is materialized whole;
    the uses over all rows need two or three of its columns). -#}
{%- set purchases_table = ref('repurchase_purchases') %}

with

purchases as (

    select order_key, customer_id, channel, shop_id, purchase_date, net_amount, customer_purchase_seq,
        first_purchase_date, previous_purchase_date
    from {{ ref('repurchase_purchases') }}

),

{%- if 'rfm_segment' in dimensions %}

-- each customer's segment now (customer_rfm, as the history's last build recorded it)
segments as (

    select customer_id, segment from {{ segment_history }}
    where valid_to is null

),
{%- endif %}

{{ marts_kpi_period_ctes(period, purchases_table) }},

dated_rows as (

    select customer_id, channel, shop_id, purchase_date from {{ purchases_table }}
    union all
    select customer_id, channel, shop_id, purchase_date from money_back

),

{#- First period of each dimension value (from all rows: a value's rows start there), from each
    channel's and shop's (and customer's, for the segments) first day: a group-by on the columns themselves
    before the dimension values are formed. -#}
first_days as (

    select
        {{- ' customer_id,' if 'rfm_segment' in dimensions }} channel, shop_id, min(purchase_date) as purchase_date
    from dated_rows
    group by {{ 'customer_id, ' if 'rfm_segment' in dimensions }}channel, shop_id

),

dimension_values as (

    select
        dimension,
        dimension_value,
        {{ marts_period_start(period, 'min(purchase_date)') }} as first_period
    from (
        {{ marts_kpi_dimensioned('first_days', 'segments', dimensions) }}
    ) as dimensioned_rows
    group by dimension, dimension_value

),

all_grid as (

    select
        dimension_values.dimension,
        dimension_values.dimension_value,
        periods.*
    from dimension_values
    inner join periods
        on periods.period_start >= dimension_values.first_period

),

{#- Each month's fingerprint: the purchases' stored row fingerprints (written with each purchase row,
    repurchase_purchases._row_fingerprint) and the money-back orders' (few, fingerprinted here). -#}
month_inputs as (

    select
        {{ marts_period_start('month', 'purchase_date') }} as month_start,
        {{ fingerprint_sum('row_fingerprint') }} as fingerprint
    from (
        select purchase_date, _row_fingerprint as row_fingerprint
        from {{ purchases_table }}
        union all
        select purchase_date,
            cast({{ row_fingerprint(['order_key', 'customer_id', 'channel', 'shop_id', 'purchase_date',
                                     'net_amount', "'money_back'"]) }} as decimal(20, 0))
        from money_back
    ) as dated_rows
    group by {{ marts_period_start('month', 'purchase_date') }}

),

period_inputs as (

    select
        periods.period_start,
        {{ dbt.hash(dbt.concat([
            dbt.cast('periods.end_ref', dbt.type_string()), "'|'",
            dbt.cast('periods.is_complete', dbt.type_string()), "'|'",
            dbt.cast('periods.is_history_complete', dbt.type_string()), "'|'",
            "'" ~ [active_days, var('clv_expected_lifespan_years')] | join('|') ~ "'", "'|'",
            "coalesce(" ~ sorted_list(
                dbt.concat([dbt.cast('month_inputs.month_start', dbt.type_string()), "'='", 'month_inputs.fingerprint']),
                ',') ~ ", '')",
        ])) }} as inputs_fingerprint
    from periods
    left join month_inputs
        on month_inputs.month_start >= {{ marts_add_months(-13, 'periods.period_start') }}
        and month_inputs.month_start <= periods.period_end
    group by periods.period_start, periods.end_ref, periods.is_complete, periods.is_history_complete

),

{%- if incremental %}

built as (

    select * from {{ this }}

),

{#- The periods to (re)build: new fingerprint, or rows that are not the grid's. -#}
build_keys as (

    select period_inputs.period_start
    from period_inputs
    left join (
        select period_start, max(inputs_fingerprint) as inputs_fingerprint
        from built
        group by period_start
    ) as built_periods
        on built_periods.period_start = period_inputs.period_start
    where built_periods.inputs_fingerprint is null
        or built_periods.inputs_fingerprint <> period_inputs.inputs_fingerprint
    union
    select coalesce(all_grid.period_start, built.period_start)
    from all_grid
    full outer join built
        on built.period_start = all_grid.period_start
        and built.dimension = all_grid.dimension
        and built.dimension_value = all_grid.dimension_value
    where all_grid.dimension is null
        or built.dimension is null
    {%- if sums %}
    -- a period that was not current at the last build (its rows are older than that build's), and every
    -- period when the segment history no longer holds that build's segments (rebuilt since)
    union
    select period_start
    from built
    group by period_start
    having max(_built_at) < {{ since }}
    union
    select periods.period_start
    from periods
    where not coalesce((select min(valid_from) from {{ segment_history }}) <= {{ since }}, false)
    {%- endif %}

),

build_periods as (

    select periods.*
    from periods
    inner join build_keys
        on build_keys.period_start = periods.period_start

),

{#- A period's values read the rows from 13 months before it (CLV window, retention start) to its end. -#}
scoped_purchases as (

    select purchases.*
    from purchases
    where purchases.purchase_date >= (
        select {{ marts_add_months(-13, 'min(period_start)') }} from build_periods
    )

),

scoped_money_back as (

    select money_back.*
    from money_back
    where money_back.purchase_date >= (
        select {{ marts_add_months(-13, 'min(period_start)') }} from build_periods
    )

),
{%- else %}

build_periods as (

    select * from periods

),

scoped_purchases as (

    select * from purchases

),

scoped_money_back as (

    select * from money_back

),
{%- endif %}

grid as (

    select all_grid.*
    from all_grid
    inner join build_periods
        on build_periods.period_start = all_grid.period_start

),

{#- Counting customers per purchase pays when a purchase meets many windows (every period is built: 13
    per purchase); a day's cells build one or two periods, where a group per customer is cheaper than
    ranking 13 months of purchases. A customer's rows share one dimension value in the overall and
    rfm_segment rows: there the previous purchase in scope is the customer's previous purchase, stored
    with each purchase. -#}
{{ marts_kpi_sums(period, dimensions, '', 'build_periods', 'grid', 'scoped_purchases', 'scoped_money_back',
                  'segments', per_purchase=not incremental,
                  stored_previous=(dimensions | reject('in', ['overall', 'rfm_segment']) | list | length == 0)) }},

{%- if incremental and sums %}

{#- The customers whose segment changed since this model's last build (`since`): the segment they had
    then (null: none) and the one they have now (null: they left). -#}
segment_moves as (

    select
        customer_id,
        max(case
            when valid_from <= {{ since }} and (valid_to is null or valid_to > {{ since }}) then segment
        end) as old_segment,
        max(case when valid_to is null then segment end) as new_segment
    from {{ segment_history }}
    where valid_from > {{ since }}
        or valid_to > {{ since }}
    group by customer_id

),

-- their rows tagged: 'old' under the segment they had, 'new' under the one they have
moved_segments as (

    select customer_id, 'old' as dimension, old_segment as segment
    from segment_moves
    where old_segment is not null
        and old_segment is distinct from new_segment
    union all
    select customer_id, 'new', new_segment
    from segment_moves
    where new_segment is not null
        and old_segment is distinct from new_segment

),

-- the current periods kept: their rows move with those customers
moved_periods as (

    select periods.*
    from periods
    where periods.period_start not in (select period_start from build_keys)

),

moved_purchases as (

    select purchases.*
    from purchases
    where purchases.customer_id in (select customer_id from moved_segments)

),

moved_money_back as (

    select money_back.*
    from money_back
    where money_back.customer_id in (select customer_id from moved_segments)

),

moved_grid as (

    select tags.dimension, tags.dimension_value, moved_periods.*
    from (select distinct dimension, segment as dimension_value from moved_segments) as tags
    cross join moved_periods

),

{{ marts_kpi_sums(period, ['rfm_segment'], 'moved_', 'moved_periods', 'moved_grid', 'moved_purchases',
                  'moved_money_back', 'moved_segments', per_purchase=false, stored_previous=false,
                  tagged=true) }},

-- the kept periods' rows with the moved customers' parts taken from their old segment's row and added
-- to their new one's (both rows exist: a period whose grid changed is recomputed)
adjusted as (

    select
        built.period_start,
        built.period_end,
        built.is_complete,
        built.dimension,
        built.dimension_value,
        built.is_history_complete,
        {%- for column in marts_kpi_sum_columns() %}
        {{ marts_kpi_sum_cast('built.' ~ column ~ ' + coalesce(moved_in.' ~ column ~ ', 0) - coalesce(moved_out.'
                              ~ column ~ ', 0)', column) }} as {{ column }},
        {%- endfor %}
        built.inputs_fingerprint,
        built._computed_at
    from built
    inner join moved_periods
        on moved_periods.period_start = built.period_start
    left join moved_joined as moved_in
        on moved_in.dimension = 'new'
        and moved_in.dimension_value = built.dimension_value
        and moved_in.period_start = built.period_start
    left join moved_joined as moved_out
        on moved_out.dimension = 'old'
        and moved_out.dimension_value = built.dimension_value
        and moved_out.period_start = built.period_start

),
{%- endif %}

{%- if sums %}

computed as (

    select
        cast(joined.period_start as date) as period_start,
        cast(joined.period_end as date) as period_end,
        cast(joined.is_complete as boolean) as is_complete,
        cast(joined.dimension as {{ dbt.type_string() }}) as dimension,
        cast(joined.dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(joined.is_history_complete as boolean) as is_history_complete,
        {%- for column in marts_kpi_sum_columns() %}
        {{ marts_kpi_sum_cast('joined.' ~ column, column) }} as {{ column }},
        {%- endfor %}
        cast(period_inputs.inputs_fingerprint as {{ dbt.type_string() }}) as inputs_fingerprint,
        {{ built_at() }} as _computed_at
    from joined
    inner join period_inputs
        on period_inputs.period_start = joined.period_start
    {%- if incremental %}
    union all
    select * from adjusted
    {%- endif %}

),

final as (

    select computed.*, {{ built_at() }} as _built_at
    from computed

)
{%- else %}

computed as (

    select {{ marts_kpi_computed() }}
    from joined

),

final as (

    select
        computed.*,
        cast(period_inputs.inputs_fingerprint as {{ dbt.type_string() }}) as inputs_fingerprint,
        {{ built_at() }} as _built_at
    from computed
    inner join period_inputs
        on period_inputs.period_start = computed.period_start

)
{%- endif %}

select * from final
{%- endmacro %}


{#- The CTEs as_of, money_back (money moved by orders that are not purchases: a return larger than its
    sale, a refund whose sale is not in the data; it lowers the cell's revenue and the customer's CLV
    spend, macros/marts_net_spend.sql, never the order or customer counts), integers and periods
    (marts_kpi_periods). -#}
{% macro marts_kpi_period_ctes(period, purchases_table) -%}
as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

money_back as (

    select order_key, customer_id, channel, shop_id, order_date as purchase_date, net_amount
    from ({{ marts_spend_orders() }}) as spend_orders
    where not is_purchase
        and net_amount <> 0

),

integers as (

    {{ marts_integers(4) }}

),

periods as (

    {{ marts_kpi_periods(period, purchases_table) }}

)
{%- endmacro %}

{#- The periods from the first one with an order that moved money to the one containing as_of (periods
    start with the first order that moved money; history is counted from the first purchase). Reads the
    CTEs as_of, money_back and integers. -#}
{% macro marts_kpi_periods(period, purchases_table) -%}
{%- set months_per_period = {'month': 1, 'quarter': 3}[period] -%}
    select
        period_start,
        {{ marts_period_end(period, 'period_start') }} as period_end,
        {{ marts_add_days(-1, 'period_start') }} as start_ref,
        case
            when {{ marts_period_end(period, 'period_start') }} <= as_of_date
                then {{ marts_period_end(period, 'period_start') }}
            else as_of_date
        end as end_ref,
        {{ marts_period_end(period, 'period_start') }} <= as_of_date as is_complete,
        period_start >= {{ marts_add_months(var('kpi_history_months'), 'data_start') }} as is_history_complete
    from (
        select
            {{ marts_add_months(months_per_period ~ ' * integers.n', 'bounds.first_period') }} as period_start,
            as_of.as_of_date,
            bounds.data_start
        from integers
        cross join (
            select
                {{ marts_period_start(period, 'min(order_date)') }} as first_period,
                min(case when is_purchase then order_date end) as data_start
            from (
                select purchase_date as order_date, true as is_purchase from {{ purchases_table }}
                union all
                select purchase_date, false from money_back
            ) as dated_orders
        ) as bounds
        cross join as_of
    ) as candidate_periods
    where period_start <= as_of_date
{%- endmacro %}

{#- The additive parts of the KPI rows of `grid` (dimension, dimension_value and the columns of periods),
    as CTEs named `prefix` + ... ending in `<prefix>joined` (one row per grid row, marts_kpi_sum_columns),
    so that one query can hold two of them. Reads the CTE as_of and the relations named:
      build_periods   the periods computed (columns of marts_kpi_periods);
      purchases / money_back  their rows (and those of the 13 months before: the CLV window and the
                      retention start), as the purchases and money_back CTEs of marts_kpi_model;
      segments        customer_id, segment (rfm_segment), with tagged a dimension column too: the rows are
                      then grouped under that dimension instead of 'rfm_segment';
      per_purchase, stored_previous  marts_clv_window's. -#}
{% macro marts_kpi_sums(period, dimensions, prefix, build_periods, grid, purchases, money_back, segments,
                        per_purchase=false, stored_previous=false, tagged=false) -%}
{%- set p = prefix -%}
{%- set active_days = var('lifecycle_active_days') -%}
{#- Not materialized for the cells: its uses (the cells, the retention references, the CLV window) each
    read their own months of it, and materializing every dimension's copy of 13 months of purchases cost
    more than reading them again (1M people: a day's current month 1.32 -> 1.17 s in process, a full
    build of both cells models 30.4 -> 20.4-23.8 s). The segment rows join each purchase to its
    customer's segment first, and that join made again in each use cost more than the copy (a full build
    of both segment models 7.6-7.8 -> 10.2-13.1 s): materialized there. -#}
{{ p }}dimensioned as {{ cte_not_materialized() if 'rfm_segment' not in dimensions }} (

    {{ marts_kpi_dimensioned(purchases, segments, dimensions, tagged) }}

),

{{ p }}money_back_dimensioned as (

    {{ marts_kpi_dimensioned(money_back, segments, dimensions, tagged) }}

),

{#- The rows of the periods being built (dimensioned also holds the 13 months before them, for the CLV
    window and the retention start). -#}
{{ p }}cells as (

    select
        dimension,
        dimension_value,
        period_start,
        customer_id,
        purchase_date,
        customer_purchase_seq,
        first_purchase_date,
        net_amount
    from (
        select {{ p }}dimensioned.*, {{ marts_period_start(period, 'purchase_date') }} as period_start
        from {{ p }}dimensioned
    ) as dated
    where period_start in (select period_start from {{ build_periods }})

),

{{ p }}cell_orders as (

    select
        dimension,
        dimension_value,
        period_start,
        count(*) as orders,
        sum(net_amount) as net_revenue,
        count(customer_id) as identified_orders,
        sum(case when customer_id is not null then net_amount end) as identified_revenue
    from {{ p }}cells
    group by dimension, dimension_value, period_start

),

{{ p }}cell_customers as (

    select
        dimension,
        dimension_value,
        period_start,
        customer_id,
        count(*) as purchases_in_cell,
        sum(case when customer_purchase_seq > 1 then 1 else 0 end) as repurchases,
        max(case
            when {{ marts_period_start(period, 'first_purchase_date') }} = period_start then 1 else 0
        end) as is_new
    from {{ p }}cells
    where customer_id is not null
    group by dimension, dimension_value, period_start, customer_id

),

{{ p }}cell_money_back as (

    select
        dimension,
        dimension_value,
        period_start,
        sum(net_amount) as money_back,
        sum(case when customer_id is not null then net_amount else 0 end) as identified_money_back
    from (
        select {{ p }}money_back_dimensioned.*, {{ marts_period_start(period, 'purchase_date') }} as period_start
        from {{ p }}money_back_dimensioned
    ) as dated
    where period_start in (select period_start from {{ build_periods }})
    group by dimension, dimension_value, period_start

),

{{ p }}customer_metrics as (

    select
        dimension,
        dimension_value,
        period_start,
        count(*) as customers,
        sum(is_new) as new_customers,
        sum(case when repurchases > 0 then 1 else 0 end) as repurchasing_customers,
        sum(case when purchases_in_cell >= 2 then 1 else 0 end) as multi_purchase_customers,
        sum(repurchases) as repurchases
    from {{ p }}cell_customers
    group by dimension, dimension_value, period_start

),

{#- Reference days are period ends (<= as_of) and as_of itself: the start and end references of the
    periods being built. A customer is active on a reference day with a purchase in the active_days days
    up to it. Only the purchases that can reach one are read (at most active_days before the first of
    them, not after the last), and each meets the reference days whose window holds it (a join on the
    range against the few reference days). Before, each purchase made three candidate reference days
    (its period's end, the next one, as_of), filtered afterwards: the same time for every period of a
    full build (2.9 s in process at 1M people), and in a day's current month 0.39-0.44 -> 0.31-0.32 s
    for the active customers, 1.24 -> 1.02 s for the whole model. -#}
{{ p }}build_refs as (

    select start_ref as ref_day from {{ build_periods }}
    union
    select end_ref from {{ build_periods }}

),

{{ p }}reference_purchases as (

    select dimension, dimension_value, customer_id, purchase_date
    from {{ p }}dimensioned
    where customer_id is not null
        and purchase_date >= (select {{ marts_add_days(-active_days, 'min(ref_day)') }} from {{ p }}build_refs)
        and purchase_date <= (select max(ref_day) from {{ p }}build_refs)

),

{{ p }}active_on as (

    select distinct
        {{ p }}reference_purchases.dimension,
        {{ p }}reference_purchases.dimension_value,
        {{ p }}reference_purchases.customer_id,
        {{ p }}build_refs.ref_day
    from {{ p }}build_refs
    cross join as_of
    inner join {{ p }}reference_purchases
        on {{ p }}reference_purchases.purchase_date <= {{ p }}build_refs.ref_day
        and {{ p }}reference_purchases.purchase_date >= {{ marts_add_days(-active_days, p ~ 'build_refs.ref_day') }}
    where {{ p }}build_refs.ref_day <= as_of.as_of_date

),

{{ p }}retention as (

    select
        at_start.dimension,
        at_start.dimension_value,
        {{ build_periods }}.period_start,
        count(*) as active_at_start,
        count(at_end.customer_id) as retained_customers
    from {{ build_periods }}
    inner join {{ p }}active_on as at_start
        on at_start.ref_day = {{ build_periods }}.start_ref
    left join {{ p }}active_on as at_end
        on at_end.ref_day = {{ build_periods }}.end_ref
        and at_end.dimension = at_start.dimension
        and at_end.dimension_value = at_start.dimension_value
        and at_end.customer_id = at_start.customer_id
    group by at_start.dimension, at_start.dimension_value, {{ build_periods }}.period_start

),

{{ p }}active_at_end as (

    select
        {{ p }}active_on.dimension,
        {{ p }}active_on.dimension_value,
        {{ build_periods }}.period_start,
        count(*) as active_at_end
    from {{ build_periods }}
    inner join {{ p }}active_on
        on {{ p }}active_on.ref_day = {{ build_periods }}.end_ref
    group by {{ p }}active_on.dimension, {{ p }}active_on.dimension_value, {{ build_periods }}.period_start

),

{{ p }}clv_windows as (

    select dimension, dimension_value, period_start, end_ref as window_end from {{ grid }}

),

{{ p }}clv as (

    {{ marts_clv_window(p ~ 'dimensioned', p ~ 'clv_windows', p ~ 'money_back_dimensioned', period,
                        per_purchase=per_purchase, stored_previous=stored_previous) }}

),

{{ p }}joined as (

    select
        {{ grid }}.*,
        coalesce({{ p }}customer_metrics.customers, 0) as customers,
        coalesce({{ p }}customer_metrics.new_customers, 0) as new_customers,
        coalesce({{ p }}customer_metrics.repurchasing_customers, 0) as repurchasing_customers,
        coalesce({{ p }}customer_metrics.multi_purchase_customers, 0) as multi_purchase_customers,
        coalesce({{ p }}customer_metrics.repurchases, 0) as repurchases,
        coalesce({{ p }}retention.active_at_start, 0) as active_at_start,
        coalesce({{ p }}retention.retained_customers, 0) as retained_customers,
        coalesce({{ p }}active_at_end.active_at_end, 0) as active_at_end,
        coalesce({{ p }}cell_orders.orders, 0) as orders,
        coalesce({{ p }}cell_orders.net_revenue, 0) + coalesce({{ p }}cell_money_back.money_back, 0) as net_revenue,
        coalesce({{ p }}cell_orders.identified_orders, 0) as identified_orders,
        coalesce({{ p }}cell_orders.identified_revenue, 0) + coalesce({{ p }}cell_money_back.identified_money_back, 0)
            as identified_revenue,
        coalesce({{ p }}clv.window_customers, 0) as clv_window_customers,
        coalesce({{ p }}clv.window_orders, 0) as clv_window_orders,
        coalesce({{ p }}clv.window_revenue, 0) as clv_window_revenue
    from {{ grid }}
    left join {{ p }}customer_metrics
        on {{ grid }}.dimension = {{ p }}customer_metrics.dimension
        and {{ grid }}.dimension_value = {{ p }}customer_metrics.dimension_value
        and {{ grid }}.period_start = {{ p }}customer_metrics.period_start
    left join {{ p }}retention
        on {{ grid }}.dimension = {{ p }}retention.dimension
        and {{ grid }}.dimension_value = {{ p }}retention.dimension_value
        and {{ grid }}.period_start = {{ p }}retention.period_start
    left join {{ p }}active_at_end
        on {{ grid }}.dimension = {{ p }}active_at_end.dimension
        and {{ grid }}.dimension_value = {{ p }}active_at_end.dimension_value
        and {{ grid }}.period_start = {{ p }}active_at_end.period_start
    left join {{ p }}clv
        on {{ grid }}.dimension = {{ p }}clv.dimension
        and {{ grid }}.dimension_value = {{ p }}clv.dimension_value
        and {{ grid }}.period_start = {{ p }}clv.window_key
    left join {{ p }}cell_orders
        on {{ grid }}.dimension = {{ p }}cell_orders.dimension
        and {{ grid }}.dimension_value = {{ p }}cell_orders.dimension_value
        and {{ grid }}.period_start = {{ p }}cell_orders.period_start
    left join {{ p }}cell_money_back
        on {{ grid }}.dimension = {{ p }}cell_money_back.dimension
        and {{ grid }}.dimension_value = {{ p }}cell_money_back.dimension_value
        and {{ grid }}.period_start = {{ p }}cell_money_back.period_start

)
{%- endmacro %}

{#- The KPI columns from a row's additive parts (marts_kpi_sum_columns; unqualified, one relation in
    scope), after the keys: the select list of a KPI row. -#}
{% macro marts_kpi_computed() -%}
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(is_complete as boolean) as is_complete,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(is_history_complete as boolean) as is_history_complete,
        cast(customers as integer) as customers,
        cast(new_customers as integer) as new_customers,
        cast(repurchasing_customers as integer) as repurchasing_customers,
        {{ decimal_from_double("case when customers > 0 then repurchasing_customers / cast(customers as double) end", 10, 4) }} as repurchase_rate,
        cast(multi_purchase_customers as integer) as multi_purchase_customers,
        {{ decimal_from_double("case when customers > 0 then multi_purchase_customers / cast(customers as double) end", 10, 4) }} as repurchase_rate_within_period,
        cast(active_at_start as integer) as active_at_start,
        cast(retained_customers as integer) as retained_customers,
        {{ decimal_from_double("case when active_at_start > 0 then retained_customers / cast(active_at_start as double) end", 10, 4) }} as retention_rate_of_start_active,
        cast(active_at_end as integer) as active_at_end,
        {{ decimal_from_double("case when active_at_start > 0 then active_at_end / cast(active_at_start as double) end", 10, 4) }} as active_customer_ratio,
        cast(repurchases as integer) as repurchases,
        {{ decimal_from_double("case when repurchasing_customers > 0 then repurchases / cast(repurchasing_customers as double) end", 10, 4) }} as avg_repurchase_frequency,
        cast(orders as integer) as orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        {{ decimal_from_double('case when orders > 0 then net_revenue / cast(orders as double) end', 18, 2) }} as aov,
        {{ decimal_from_double("case when orders > 0 then identified_orders / cast(orders as double) end", 10, 4) }} as identified_order_share,
        {{ decimal_from_double("case when net_revenue <> 0 then identified_revenue / cast(net_revenue as double) end", 10, 4) }} as identified_revenue_share,
        cast(clv_window_customers as integer) as clv_window_customers,
        {{ decimal_from_double(marts_clv_frequency('clv_window_orders', 'clv_window_customers'), 10, 4) }}
            as annual_purchase_frequency,
        {{ decimal_from_double(marts_clv_value('clv_window_revenue', 'clv_window_orders', 'clv_window_customers'), 18, 2) }}
            as clv
{%- endmacro %}

{#- A stored additive part (marts_kpi_sum_columns) in its stored type. -#}
{% macro marts_kpi_sum_cast(expression, column) -%}
    {%- if column in ['net_revenue', 'identified_revenue', 'clv_window_revenue'] -%}
    cast({{ expression }} as decimal(18, 2))
    {%- else -%}
    cast({{ expression }} as bigint)
    {%- endif -%}
{%- endmacro %}

{#- Body of kpi_monthly / kpi_quarterly: the rows of the current periods (those of marts_kpi_periods: an
    as_of moved back leaves later periods in the incremental models until they are current again) of
    `cells` (int_kpi_*_cells: overall, channel, store) and of `segments` (int_kpi_*_segments:
    rfm_segment, whose rates are computed here from the stored parts), with store_channel / store_name
    joined to every row. -#}
{% macro marts_kpi_mart(period, cells, segments) -%}
{%- set purchases_table = ref('repurchase_purchases') %}

with

{{ marts_kpi_period_ctes(period, purchases_table) }},

segment_rows as (

    select {{ marts_kpi_computed() }}
    from {{ segments }}

),

kpi_rows as (

    select
        {%- for column in ['period_start', 'period_end', 'is_complete', 'dimension', 'dimension_value']
                          + marts_kpi_metric_columns() %}
        kept.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ cells }} as kept
    inner join periods
        on periods.period_start = kept.period_start
    union all
    select segment_rows.*
    from segment_rows
    inner join periods
        on periods.period_start = segment_rows.period_start

),

shop_names as (

    select channel, shop_id, max(shop_name) as shop_name
    from {{ ref('fct_orders') }}
    group by channel, shop_id

),

stores as (

    select distinct
        'store' as dimension,
        coalesce(store_orders.channel, 'unknown') || ':' || coalesce(store_orders.shop_id, 'unknown')
            as dimension_value,
        coalesce(store_orders.channel, 'unknown') as store_channel,
        coalesce(shop_names.shop_name, store_orders.shop_id, 'unknown') as store_name
    from (
        select channel, shop_id from {{ purchases_table }}
        union
        select channel, shop_id from money_back
    ) as store_orders
    left join shop_names
        on store_orders.channel = shop_names.channel
        and store_orders.shop_id = shop_names.shop_id

),

final as (

    select
        kpi_rows.period_start,
        kpi_rows.period_end,
        kpi_rows.is_complete,
        kpi_rows.dimension,
        kpi_rows.dimension_value,
        cast(stores.store_channel as {{ dbt.type_string() }}) as store_channel,
        cast(stores.store_name as {{ dbt.type_string() }}) as store_name,
        {%- for column in marts_kpi_metric_columns() %}
        kpi_rows.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from kpi_rows
    left join stores
        on kpi_rows.dimension = stores.dimension
        and kpi_rows.dimension_value = stores.dimension_value

)

select * from final
{%- endmacro %}


{#- The KPI dimensions of a relation with customer_id, channel, shop_id (segment_cte: customer_id,
    segment): overall/all, channel/<channel>, store/<channel>:<shop id>, rfm_segment/<segment>; only those
    in `dimensions` (all by default). tagged: segment_cte has a dimension column, which the segment rows
    carry instead of 'rfm_segment'. -#}
{% macro marts_kpi_dimensioned(relation, segment_cte, dimensions=none, tagged=false) -%}
    {%- set dimensions = dimensions or marts_kpi_period_dimensions() + ['rfm_segment'] -%}
    {%- set parts = [] -%}
    {%- if 'overall' in dimensions -%}
        {%- do parts.append("select 'overall' as dimension, 'all' as dimension_value, " ~ relation ~ ".* from " ~ relation) -%}
    {%- endif -%}
    {%- if 'channel' in dimensions -%}
        {%- do parts.append("select 'channel' as dimension, coalesce(channel, 'unknown') as dimension_value, " ~ relation ~ ".* from " ~ relation) -%}
    {%- endif -%}
    {%- if 'store' in dimensions -%}
        {%- do parts.append("select 'store' as dimension, coalesce(channel, 'unknown') || ':' || coalesce(shop_id, 'unknown') as dimension_value, " ~ relation ~ ".* from " ~ relation) -%}
    {%- endif -%}
    {%- if 'rfm_segment' in dimensions -%}
        {%- do parts.append("select " ~ (segment_cte ~ ".dimension" if tagged else "'rfm_segment'") ~ " as dimension, " ~ segment_cte ~ ".segment as dimension_value, " ~ relation ~ ".* from " ~ relation ~ " inner join " ~ segment_cte ~ " on " ~ relation ~ ".customer_id = " ~ segment_cte ~ ".customer_id") -%}
    {%- endif -%}
    {{ parts | join('\n    union all\n    ') }}
{%- endmacro %}

{#- CLV, defined once (kpi_monthly, kpi_quarterly, clv_by_segment):
      clv = aov x annual purchase frequency x clv_expected_lifespan_years
    over the trailing 12-month window (window_end - 12 months, window_end] of the identified purchases in
    scope: window customers = customers in scope with a purchase in the window; window orders = their
    purchases; window revenue = the sum of each window customer's net spend in the window by the one
    net-spend rule (macros/marts_net_spend.sql: their purchases plus the money their non-purchase orders
    moved in the window, money_back_cte, floored at 0 per customer). aov = window revenue / window orders,
    annual purchase frequency = window orders / window customers, so clv = window revenue / window
    customers x lifespan. purchases_cte and money_back_cte: dimension, dimension_value, customer_id,
    purchase_date, net_amount; windows_cte: dimension, dimension_value, period_start (the key),
    window_end. Returns dimension, dimension_value, window_key, window_customers, window_orders,
    window_revenue (windows with no identified purchase are absent).

    period ('month', 'quarter'; the KPI marts): the windows are one per period, so a purchase falls in
    up to 13 (months) or 5 (quarters) of them. The join is keyed by month: each window is listed once per
    month it touches (the 13 calendar months from window_end - 12 months to window_end; a handful of rows
    per period), each row meets the windows of its own month by key (its month is computed once per
    row), and the range condition keeps the true windows. Without a key the join on dimension alone
    paired every purchase with every period of its dimension value before filtering: a cost growing with
    the square of the history. The window's start is computed once per window, not per pair: month
    arithmetic in the join condition, evaluated on ~32M candidate pairs at 1M people, tripled the cost of
    kpi_monthly.

    per_purchase (for many windows per purchase: every period built): a customer whose window spend is the
    plain sum of their purchases is counted on their first purchase in the window, and the window's
    totals are sums over purchases; only the others are grouped per customer for the floor. Those sums
    are running sums over each dimension value's windows of what each purchase adds at its first window
    and takes back after its last, so windows_cte must hold every period of each dimension value from
    its first (the grid of a full build). At 1M people that replaced a 22M-row join in kpi_monthly
    (4.2 -> 2.7 s in process) and cut the full build of int_kpi_monthly_cells 14.7 -> 11.2 s. Without it
    every customer is grouped per window (cheaper for one or two windows: a day's cells, clv_by_segment).
    DECISIONLOG "A day's KPI cells, CLV windows and customer totals read only what the day changed".
    stored_previous (with per_purchase; only where each customer's rows are all in scope under one
    dimension value: the overall and rfm_segment rows of the marts): the first purchase in a window is
    found by the purchases' stored previous_purchase_date (repurchase_purchases) instead of a window
    function over every row in scope. -#}
{% macro marts_clv_window(purchases_cte, windows_cte, money_back_cte=none, period=none, per_purchase=false,
                          stored_previous=false) -%}
    {#- Per customer with periods (a day's cells): the windows of one period share their end whatever the
        dimension value, so the rows meet the distinct (period, end) windows by month alone, and the
        windows asked for are kept after grouping. Keyed by dimension value too, the join hashed the
        dimension strings of every pair: 2.0 of int_kpi_monthly_cells' 3.3 s on a 1M day. -#}
    {%- set by_period = period and not per_purchase -%}
    {%- set join_on -%}
        on
        {%- if not by_period %} p.dimension = w.dimension
        and p.dimension_value = w.dimension_value and
        {%- endif %}
        {%- if period %} p.purchase_month = w.covered_month and
        {%- endif %} p.purchase_date <= w.window_end
        and p.purchase_date > w.window_after
    {%- endset -%}
    {%- set windows -%}
    (
        select
            windows.*,
            {{ marts_add_months(-12, 'windows.window_end') }} as window_after
            {%- if period %},
            {{ marts_add_months('steps.n', marts_period_start('month', marts_add_months(-12, 'windows.window_end'))) }}
                as covered_month
            {%- endif %}
        from
        {%- if by_period %} (select distinct period_start, window_end from {{ windows_cte }}) as windows
        {%- else %} {{ windows_cte }} as windows
        {%- endif %}
        {%- if period %}
        cross join ({{ marts_integers(2) }}) as steps
        where steps.n <= 12
        {%- endif %}
    )
    {%- endset -%}
    {%- set w_keys = 'p.dimension, p.dimension_value, w.period_start, w.window_end' if by_period
                     else 'w.dimension, w.dimension_value, w.period_start' -%}
    {%- if per_purchase %}
    {#- The customers (in scope) whose window spend can be other than the plain sum of their purchases: a
        money-back row in scope, or a purchase below 0. The floor of the net-spend rule may bite for them
        only. -#}
    {%- set floored -%}
    (
        select distinct dimension, dimension_value, customer_id
        from {{ purchases_cte }}
        where customer_id is not null
            and net_amount < 0
        {%- if money_back_cte %}
        union
        select distinct dimension, dimension_value, customer_id
        from {{ money_back_cte }}
        where customer_id is not null
        {%- endif %}
    )
    {%- endset -%}
    {#- The other customers' purchases, each with the day of the customer's previous purchase in scope: with
        stored_previous, the purchases' own previous_purchase_date (every purchase of a customer is in
        scope, under one dimension value), else a window over the rows in scope. -#}
    {%- set sequenced -%}
    (
        select
            rows_in_scope.*,
            {%- if stored_previous %}
            rows_in_scope.previous_purchase_date as previous_in_scope
            {%- else %}
            lag(rows_in_scope.purchase_date) over (
                partition by rows_in_scope.dimension, rows_in_scope.dimension_value, rows_in_scope.customer_id
                order by rows_in_scope.purchase_date
            ) as previous_in_scope
            {%- endif %}
        from {{ purchases_cte }} as rows_in_scope
        left join {{ floored }} as floored_customers
            on floored_customers.dimension = rows_in_scope.dimension
            and floored_customers.dimension_value = rows_in_scope.dimension_value
            and floored_customers.customer_id = rows_in_scope.customer_id
        where rows_in_scope.customer_id is not null
            and floored_customers.customer_id is null
    )
    {%- endset -%}
    {#- Each window's start (window_after grows with period_start). -#}
    {%- set window_afters -%}
    (
        select distinct period_start, {{ marts_add_months(-12, 'window_end') }} as window_after
        from {{ windows_cte }}
    )
    {%- endset -%}
    {#- For each day from the first window's start to the last's: the first window whose start is on or
        after it (the first that no longer holds a purchase of that day). A later day has none. An
        earlier day would have the first window, but no purchase is dated before the first period. -#}
    {%- set window_ends -%}
    (
        select days.day, min(window_starts.period_start) as window_key
        from (
            select {{ marts_add_days('steps.n', 'bounds.first_after') }} as day
            from ({{ marts_integers(5) }}) as steps
            cross join (
                select min(window_after) as first_after, max(window_after) as last_after
                from {{ window_afters }} as all_afters
            ) as bounds
            where steps.n <= {{ marts_days_between('bounds.first_after', 'bounds.last_after') }}
        ) as days
        inner join {{ window_afters }} as window_starts
            on window_starts.window_after >= days.day
        group by days.day
    )
    {%- endset -%}
    {%- endif %}
    select dimension, dimension_value, window_key,
        sum(window_customers) as window_customers,
        sum(window_orders) as window_orders,
        sum(window_revenue) as window_revenue
    from (
        {%- if per_purchase %}
        {# Most customers: their spend in a window is the sum of their purchases in it, so the window's
            totals are sums over purchases, and a customer is counted once, on their first purchase in the
            window (the previous one lies at or before the window's start). No group per customer, and
            no pair of purchase and window: the windows of a purchase on day d are a run in period order
            (window_after grows with the period), from d's own period up to the first window whose
            window_after is on or after d (window_ends). Its customer counts from the first of them whose
            window_after is on or after the previous purchase. So each purchase adds its order, amount
            and customer at one window and takes them back at a later one; the purchases are grouped by
            those windows first (a few thousand groups), and a window's totals are running sums over its
            dimension value's windows. #}
        select dimension, dimension_value, window_key,
            sum(customers_change) over (
                partition by dimension, dimension_value order by window_key
                rows between unbounded preceding and current row
            ) as window_customers,
            sum(orders_change) over (
                partition by dimension, dimension_value order by window_key
                rows between unbounded preceding and current row
            ) as window_orders,
            sum(revenue_change) over (
                partition by dimension, dimension_value order by window_key
                rows between unbounded preceding and current row
            ) as window_revenue
        from (
            select w.dimension, w.dimension_value, w.period_start as window_key,
                coalesce(sum(changes.customers_change), 0) as customers_change,
                coalesce(sum(changes.orders_change), 0) as orders_change,
                coalesce(sum(changes.revenue_change), 0) as revenue_change
            from {{ windows_cte }} as w
            left join (
                select
                    runs.dimension,
                    runs.dimension_value,
                    case kinds.n
                        when 0 then runs.first_window
                        when 1 then runs.end_window
                        when 2 then runs.customer_window
                        else runs.end_window
                    end as window_key,
                    case kinds.n when 0 then runs.orders when 1 then -runs.orders else 0 end as orders_change,
                    case kinds.n when 0 then runs.revenue when 1 then -runs.revenue else 0 end as revenue_change,
                    case kinds.n when 2 then runs.orders when 3 then -runs.orders else 0 end as customers_change
                from (
                    select
                        p.dimension,
                        p.dimension_value,
                        p.first_window,
                        purchase_ends.window_key as end_window,
                        case
                            when p.previous_in_scope is null then p.first_window
                            when previous_ends.window_key > p.first_window then previous_ends.window_key
                            when previous_ends.window_key is not null then p.first_window
                        end as customer_window,
                        count(*) as orders,
                        sum(p.net_amount) as revenue
                    from (
                        select sequenced_rows.*,
                            {{ marts_period_start(period, 'sequenced_rows.purchase_date') }} as first_window
                        from {{ sequenced }} as sequenced_rows
                    ) as p
                    left join {{ window_ends }} as purchase_ends
                        on purchase_ends.day = p.purchase_date
                    left join {{ window_ends }} as previous_ends
                        on previous_ends.day = p.previous_in_scope
                    group by 1, 2, 3, 4, 5
                ) as runs
                cross join ({{ marts_integers(1) }}) as kinds
                where kinds.n <= 1
                    or (kinds.n <= 3 and runs.customer_window is not null
                        and (runs.end_window is null or runs.customer_window < runs.end_window))
            ) as changes
                on changes.dimension = w.dimension
                and changes.dimension_value = w.dimension_value
                and changes.window_key = w.period_start
            group by w.dimension, w.dimension_value, w.period_start
        ) as window_changes
        union all
        {%- endif %}
        {# The others (everyone without per_purchase): each customer's spend in the window, money back
            included, floored at 0. #}
        select
            window_customers.dimension,
            window_customers.dimension_value,
            window_customers.window_key,
            count(*) as window_customers,
            sum(window_customers.orders) as window_orders,
            sum({{ marts_net_spend_floor(
                'window_customers.revenue' ~ (' + coalesce(customer_money_back.money_back, 0)' if money_back_cte else '')
            ) }}) as window_revenue
        from (
            select {{ w_keys | replace('w.period_start', 'w.period_start as window_key') }}, p.customer_id,
                count(*) as orders, sum(p.net_amount) as revenue
            from {{ windows }} as w
            inner join (
                select rows_in_scope.*
                from {{ marts_clv_rows(purchases_cte, period) }} as rows_in_scope
                {%- if per_purchase %}
                inner join {{ floored }} as floored_customers
                    on floored_customers.dimension = rows_in_scope.dimension
                    and floored_customers.dimension_value = rows_in_scope.dimension_value
                    and floored_customers.customer_id = rows_in_scope.customer_id
                {%- else %}
                where rows_in_scope.customer_id is not null
                {%- endif %}
            ) as p
            {{ join_on }}
            group by {{ w_keys }}, p.customer_id
        ) as window_customers
        {%- if money_back_cte %}
        left join (
            select {{ w_keys | replace('w.period_start', 'w.period_start as window_key') }}, p.customer_id,
                sum(p.net_amount) as money_back
            from {{ windows }} as w
            inner join {{ marts_clv_rows(money_back_cte, period) }} as p
            {{ join_on }}
            where p.customer_id is not null
            group by {{ w_keys }}, p.customer_id
        ) as customer_money_back
            on customer_money_back.dimension = window_customers.dimension
            and customer_money_back.dimension_value = window_customers.dimension_value
            and customer_money_back.window_key = window_customers.window_key
            {%- if by_period %}
            and customer_money_back.window_end = window_customers.window_end
            {%- endif %}
            and customer_money_back.customer_id = window_customers.customer_id
        {%- endif %}
        {%- if by_period %}
        -- the windows asked for (a dimension value's own periods and end)
        inner join (select distinct dimension, dimension_value, period_start, window_end from {{ windows_cte }}) as wanted
            on wanted.dimension = window_customers.dimension
            and wanted.dimension_value = window_customers.dimension_value
            and wanted.period_start = window_customers.window_key
            and wanted.window_end = window_customers.window_end
        {%- endif %}
        group by window_customers.dimension, window_customers.dimension_value, window_customers.window_key
    ) as window_parts
    group by dimension, dimension_value, window_key
{%- endmacro %}

{#- The rows of relation as marts_clv_window joins them: as they are without a period; with one, the
    identified rows with purchase_month, the month of purchase_date (the windows' join key). -#}
{% macro marts_clv_rows(relation, period=none) -%}
    {%- if period -%}
    (
        select
            rows_in_scope.*,
            {{ marts_period_start('month', 'rows_in_scope.purchase_date') }} as purchase_month
        from {{ relation }} as rows_in_scope
        where rows_in_scope.customer_id is not null
    )
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- Annual purchase frequency of the CLV window: orders / customers (the window is 12 months). -#}
{% macro marts_clv_frequency(orders, customers) -%}
    case when {{ customers }} > 0 then {{ orders }} / cast({{ customers }} as double) end
{%- endmacro %}

{#- CLV from the window's totals: (revenue / orders) x (orders / customers) x lifespan. -#}
{% macro marts_clv_value(revenue, orders, customers) -%}
    case when {{ customers }} > 0 and {{ orders }} > 0 then
        ({{ revenue }} / cast({{ orders }} as double))
        * ({{ orders }} / cast({{ customers }} as double))
        * {{ var('clv_expected_lifespan_years') }}
    end
{%- endmacro %}
