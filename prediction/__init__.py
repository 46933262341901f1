"""Predictive customer lifetime value: the BG/NBD purchase-count model and the Gamma-Gamma spend model
(Fader, Hardie & Lee 2005), fitted by maximum likelihood with numpy and scipy. Knows nothing of Dagster
or dbt: it takes transactions (or their per-customer summary) and returns data frames.

- ``summary``: transactions -> one row per customer (frequency, recency, tenure, monetary value)
- ``mle``: the shared maximum-likelihood fitter (log-parameters, standard errors, convergence checks)
- ``bgnbd``, ``gamma_gamma``: the two models' likelihoods, fits and conditional expectations
- ``clv``: per-customer predictions (probability alive, expected purchases and spend, discounted CLV)
- ``holdout``: the calibration / holdout check of the fit against what happened
- ``fitting``: both fits on a summary, reported as plain data (``repurchase clv-fit``)
- ``simulate``: customers drawn from known parameters (benchmarks, recovery tests)
- ``warehouse``: the marts tables written from ``marts.repurchase_purchases``
"""
