import Testing
@testable import Reports

@Suite struct TicksTests {
    @Test func unitInterval() {
        let t = NiceTicks.linear(lower: 0, upper: 1)
        #expect(t.values == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        #expect(t.labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test func smallRange() {
        let t = NiceTicks.linear(lower: 0.0013, upper: 0.0021)
        #expect(t.values == [0.0012, 0.0014, 0.0016, 0.0018, 0.002, 0.0022])
        #expect(t.labels == ["0.0012", "0.0014", "0.0016", "0.0018", "0.0020", "0.0022"])
    }

    @Test func mixedSigns() {
        let t = NiceTicks.linear(lower: -5, upper: 37)
        #expect(t.values == [-10, 0, 10, 20, 30, 40])
        #expect(t.labels == ["-10", "0", "10", "20", "30", "40"])
    }

    @Test func halfSteps() {
        // A raw step of 0.4 rounds to the nice step 0.5.
        let t = NiceTicks.linear(lower: 0, upper: 1.7)
        #expect(t.values == [0, 0.5, 1, 1.5, 2])
        #expect(t.labels == ["0.0", "0.5", "1.0", "1.5", "2.0"])
    }

    @Test func constantAndDegenerate() {
        let c = NiceTicks.linear(lower: 5, upper: 5)
        #expect(c.lower < 5 && c.upper > 5 && c.values.count >= 3)
        let z = NiceTicks.linear(lower: 0, upper: 0)
        #expect(z.lower <= -1 && z.upper >= 1)
        let n = NiceTicks.linear(lower: .nan, upper: .infinity)
        #expect(n.lower == 0 && n.upper == 1)
        let r = NiceTicks.linear(lower: 1, upper: 0)
        #expect(r.values == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    }

    @Test func tinyAndHugeUseExponents() {
        let t = NiceTicks.linear(lower: 1e-9, upper: 3e-9)
        #expect(t.labels.first == "1e-09" || t.labels.contains("2e-09"))
        #expect(t.values.count >= 3)
        let h = NiceTicks.linear(lower: 0, upper: 3e7)
        #expect(h.labels.contains("1e+07"))
    }

    @Test func logTicks() {
        let wide = NiceTicks.log(lower: 0.0015, upper: 40)
        #expect(wide.values == [0.001, 0.01, 0.1, 1, 10, 100])
        #expect(wide.labels == ["0.001", "0.01", "0.1", "1", "10", "100"])
        let narrow = NiceTicks.log(lower: 2, upper: 50)
        #expect(narrow.values == [1, 2, 5, 10, 20, 50, 100])
        let bad = NiceTicks.log(lower: 0, upper: 50)
        #expect(bad.lower > 0 && bad.upper >= 50)
        let huge = NiceTicks.log(lower: 1e-8, upper: 1e8)
        #expect(huge.labels.first == "1e-08" && huge.labels.last == "1e+08")
    }
}

/// Axis ticks for the numeric extremes of valid data (issue 24): subnormal spans and values near
/// the largest Double used to crash (Double → Int of ±∞); a planted removal of the clamp and the
/// minimum span traps here.
@Suite struct ExtremeTicksTests {
    static let ranges: [(Double, Double)] = [
        (0, 1e-320), (5e-324, 5e-324), (0, 5e-324), (-1e-310, 1e-310), (1, 1 + 1e-300),
        (-1e308, 1e308), (0, 1.7976931348623157e308), (-1.7976931348623157e308, 1.7976931348623157e308),
        (1e300, 1e308), (-1e-300, 0),
    ]

    @Test func extremeRangesGiveFiniteTicks() {
        for (lo, hi) in Self.ranges {
            let t = NiceTicks.linear(lower: lo, upper: hi)
            #expect(t.values.count >= 2 && t.values.allSatisfy { $0.isFinite }, "[\(lo), \(hi)]: \(t.values)")
            #expect(t.labels.count == t.values.count && t.labels.allSatisfy { !$0.isEmpty }, "[\(lo), \(hi)]: \(t.labels)")
            #expect(t.lower <= t.upper)
        }
    }
}
