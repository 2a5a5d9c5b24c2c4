"""The course's shared NumPy core.

network    an L-layer fully connected net: forward/backward pieces, the binary cross-entropy,
           predict, accuracy
training   one generic training loop into which notebooks plug the learner's functions
           (bind_update: an update rule with explicit optimizer state)
data       the course's data sets (circles, moons, goalkeeper, digits in a fixed split)
plots      decision boundaries and cost curves in one colour-blind-safe style
explore    slider explorers: train once per slider value, redraw instantly
gradients  parameter dicts as one vector and back
validate   argument checks with messages that say what is wrong; num_layers

Nothing here solves a graded exercise (the learner's functions are passed in), with one stated
exception: train()'s default gradient-descent step, which notebooks 01-04 need before notebook 05
asks for it. tests/test_release_answers.py checks it.
"""

__version__ = "0.1.0"
