"""The course's shared NumPy core.

network    an L-layer fully connected net: forward/backward pieces, costs, predict, accuracy
training   one generic training loop into which notebooks plug the learner's functions
data       the course's data sets (circles, moons, goalkeeper, digits) and a train/dev/test split
plots      decision boundaries and cost curves in one colour-blind-safe style
explore    slider explorers: train once per slider value, redraw instantly
gradients  parameter dicts as one vector and back; a centred numerical gradient
validate   argument checks with messages that say what is wrong
"""

__version__ = "0.1.0"
