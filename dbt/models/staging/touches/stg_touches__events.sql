{#- One row per campaign touch event (macros/staging_touches.sql: the same event exported twice is one
    event, keeping the first loaded copy's lineage). -#}
{{ stg_touches_events(source('raw', 'touches')) }}
