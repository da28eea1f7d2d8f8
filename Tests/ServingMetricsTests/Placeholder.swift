import Testing

@Test func ServingMetricsTestsBuilds() {}
