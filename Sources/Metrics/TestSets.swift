import Foundation
import Media

/// One evaluation case: a video and the boundary frames s and e; the l = e − s − 1
/// frames between them are the ground truth every method must reproduce.
public struct EvalCase: Codable, Equatable, Sendable {
    public var video: String
    public var s: Int
    public var e: Int
    public var label: String?
    /// Synthetic cases: what re-renders the scene exactly (silhouette IoU); nil for real footage.
    public var scene: SceneTruth?
    public var length: Int { e - s - 1 }
    public init(video: String, s: Int, e: Int, label: String? = nil, scene: SceneTruth? = nil) {
        self.video = video
        self.s = s
        self.e = e
        self.label = label
        self.scene = scene
    }
}

/// A synthetic take's renderer seed, frame size and per-frame truth file (poses and cameras).
public struct SceneTruth: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var size: Int
    public var truth: String
    public init(seed: UInt64, size: Int, truth: String) {
        self.seed = seed
        self.size = size
        self.truth = truth
    }
}

public enum TestSets {
    /// test-manual: a TOML-like list of cases, one `[[case]]` table each with video, s, e.
    /// (Parsed by the Engine's TOML reader; here the cases are only validated.)
    public static func validate(_ cases: [EvalCase], references: Int) throws {
        for c in cases {
            let n = try VideoReader(path: c.video).frameCount
            guard c.s >= references - 1, c.e + references - 1 < n, c.e > c.s + 1 else {
                throw MetricsError.badInput(
                    "case \(c.video) s=\(c.s) e=\(c.e): needs \(references) reference frames each side inside "
                        + "its \(n) frames and e > s + 1"
                )
            }
        }
    }

    /// test-auto (MAVIN Eq. 8): every `stride` frames, s and e = s + l + 1 with the mean
    /// flow magnitude between xˢ and xᵉ (on 64-pixel-wide luma, in pixels of that size)
    /// inside (lower, upper), skipping any window with a shot cut (consecutive-frame SSIM < 0.1).
    public static func auto(
        videos: [String], length l: Int, references: Int, lower: Float = 0.5, upper: Float = 6,
        stride: Int = 12, maxPerVideo: Int = 8
    ) throws -> [EvalCase] {
        var cases: [EvalCase] = []
        for path in videos {
            let r = try VideoReader(path: path)
            let w = 64
            let h = max(16, Int((Double(r.info.height) / Double(r.info.width) * 64).rounded()))
            var small: [Int: [Float]] = [:]
            func luma(_ i: Int) throws -> [Float] {
                if let v = small[i] { return v }
                let v = try r.frame(at: i, size: (w, h)).luma()
                small[i] = v
                return v
            }
            var found = 0
            var s = references - 1
            while s + l + 1 + references - 1 < r.frameCount && found < maxPerVideo {
                let e = s + l + 1
                var cut = false
                for i in max(0, s - references + 1)..<(e + references - 1)
                where ImageQuality.ssim(luma: try luma(i), try luma(i + 1), width: w, height: h) < 0.1 {
                    cut = true
                    break
                }
                if !cut {
                    let f = HornSchunck.flow(from: try luma(s), to: try luma(e), width: w, height: h, iterations: 60)
                    let m = f.meanMagnitude
                    if m > lower && m < upper {
                        cases.append(EvalCase(video: path, s: s, e: e, label: String(format: "flow %.1f px", m)))
                        found += 1
                    }
                }
                s += stride
            }
        }
        return cases
    }
}
