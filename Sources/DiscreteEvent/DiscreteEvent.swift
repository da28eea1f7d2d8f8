// DiscreteEvent module
