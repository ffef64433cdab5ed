"""Calibration and validation of the baseline against the published e-CNY figures (issue 5).

``targets`` says what each published figure means and reads the model's value for it; ``parameters`` lists
the free behavioural parameters with their bounds and reasons; ``objective`` turns a parameter set into a
loss over paired-seed replications; ``study`` runs the Optuna search on the sweep executors; ``fragment``
writes ``scenarios/calibrated.toml``; ``validate`` and ``report`` show the fit. ``cli`` is the command line.
"""
