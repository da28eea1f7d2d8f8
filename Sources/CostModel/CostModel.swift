// CostModel module
