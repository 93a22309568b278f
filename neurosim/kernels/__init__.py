"""Pure functions over float64 arrays: no units, no classes, nothing from above.

- :mod:`~neurosim.kernels.rates`: safe ``exprel`` and the standard rate forms
- :mod:`~neurosim.kernels.hines`: tree (Hines) solvers, single and double cable
- :mod:`~neurosim.kernels.cable`: the compiled time loop over a batch of cables
"""
