// ServingMetrics module
