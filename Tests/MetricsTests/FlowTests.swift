import Foundation
import XCTest
@testable import Media
@testable import Metrics

/// Dense Inverse Search against exactly known flow (KnownFlow) on a real frame.
final class FlowTests: XCTestCase {
    func frame(width: Int, height: Int) throws -> [Float] {
        let r = try VideoReader(path: samplesFolder.appendingPathComponent("bunny.mp4").path)
        return try r.frame(at: 10, size: (width, height)).luma()
    }

    func testDISRecoversKnownFlowBetterThanHornSchunck() throws {
        let (w, h) = (128, 96)
        let a = try frame(width: w, height: h)
        var dis: [Float] = []
        var hs: [Float] = []
        for seed in 1...3 {
            let truth = KnownFlow.field(width: w, height: h, magnitude: 6, seed: UInt64(seed))
            let b = KnownFlow.warped(a, by: truth)
            let moved = KnownFlow.endPointError(FlowField(width: w, height: h), truth: truth)
            let d = KnownFlow.endPointError(DISFlow.flow(from: b, to: a, width: w, height: h), truth: truth)
            let s = KnownFlow.endPointError(HornSchunck.flow(from: b, to: a, width: w, height: h), truth: truth)
            print(
                String(
                    format: "known flow seed %d: mean motion %.2f px, DIS EPE %.3f, Horn–Schunck EPE %.3f",
                    seed, moved, d, s))
            XCTAssertGreaterThan(moved, 1.5, "the field moves pixels")
            dis.append(d)
            hs.append(s)
        }
        let meanDIS = dis.reduce(0, +) / 3
        XCTAssertLessThan(meanDIS, 0.6)
        XCTAssertLessThan(meanDIS, hs.reduce(0, +) / 3)
    }

    func testDISOfIdenticalFramesIsZeroAndOfATranslationIsIt() throws {
        let (w, h) = (96, 64)
        let a = try frame(width: w, height: h)
        let still = DISFlow.flow(from: a, to: a, width: w, height: h)
        XCTAssertLessThan(still.meanMagnitude, 0.05)
        var shift = FlowField(width: w, height: h)
        for i in shift.u.indices { shift.u[i] = 3.5 }
        let b = KnownFlow.warped(a, by: shift)
        let f = DISFlow.flow(from: b, to: a, width: w, height: h)
        XCTAssertLessThan(KnownFlow.endPointError(f, truth: shift, margin: 6), 0.3)
    }
}
