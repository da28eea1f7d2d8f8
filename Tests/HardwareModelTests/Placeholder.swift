import Testing

@Test func HardwareModelTestsBuilds() {}
