import Core
import Foundation
import Media

/// Non-learned ways to make the l frames between xˢ and xᵉ: what an editor can do today.
public enum Baseline: String, CaseIterable, Sendable {
    /// Hold xˢ for the first half, then xᵉ.
    case repeatFrames = "repeat"
    /// Linear blend from xˢ to xᵉ.
    case crossfade
    /// Horn–Schunck flow both ways, bidirectional warping, occlusion-aware blending.
    case flow
    /// Our DIS flow both ways, linear-motion warps and blend: opencv-dis's method with our estimator.
    case dis
    /// ffmpeg's xfade filter (external; needs the ffmpeg CLI).
    case ffmpegXfade = "ffmpeg-xfade"
    /// ffmpeg's minterpolate, motion-compensated (mi_mode=mci) (external).
    case ffmpegMinterpolate = "ffmpeg-minterpolate"
    /// OpenCV's DIS flow, both ways, linear-motion warps and blend (external; Python with opencv-python).
    case opencvDIS = "opencv-dis"

    public var isExternal: Bool { self == .ffmpegXfade || self == .ffmpegMinterpolate || self == .opencvDIS }

    /// Whether the external program this baseline runs is there (always true for our own).
    public var isAvailable: Bool {
        switch self {
        case .ffmpegXfade, .ffmpegMinterpolate: return FFmpegPeer.available
        case .opencvDIS: return OpenCVPeer.available
        default: return true
        }
    }
    public var label: String { isExternal ? "\(rawValue) (external)" : rawValue }

    public func generate(start: RGBImage, end: RGBImage, length l: Int) throws -> [RGBImage] {
        switch self {
        case .repeatFrames: return (0..<l).map { $0 < (l + 1) / 2 ? start : end }
        case .crossfade: return (1...l).map { Baseline.blend(start, end, Float($0) / Float(l + 1)) }
        case .flow: return FlowInterpolation.frames(start: start, end: end, length: l)
        case .dis: return FlowInterpolation.linearMotionFrames(start: start, end: end, length: l)
        case .ffmpegXfade, .ffmpegMinterpolate: return try FFmpegPeer.frames(self, start: start, end: end, length: l)
        case .opencvDIS: return try OpenCVPeer.frames(start: start, end: end, length: l)
        }
    }

    public static func blend(_ a: RGBImage, _ b: RGBImage, _ t: Float) -> RGBImage {
        var px = [UInt8](repeating: 0, count: a.pixels.count)
        for i in 0..<px.count { px[i] = UInt8((Float(a.pixels[i]) * (1 - t) + Float(b.pixels[i]) * t).rounded()) }
        return RGBImage(width: a.width, height: a.height, pixels: px)
    }
}

/// Frame interpolation from two-way Horn–Schunck flow.
public enum FlowInterpolation {
    /// Visibility by forward–backward consistency: where following f and coming back by g does
    /// not return home, the pixel is occluded in the other frame (0.05 there, else 1).
    public static func visibility(_ f: FlowField, _ g: FlowField) -> [Float] {
        roundTrip(f, g) { miss, magnitude in miss > 0.01 * magnitude + 0.5 ? 0.05 : 1 }
    }

    /// Forward–backward consistency of f (with g the flow the other way) as a weight in 0…1:
    /// exp(−r² / (0.01·|f|² + 0.5)), r the round trip's miss in pixels, the soft form of `visibility`'s test.
    public static func consistency(_ f: FlowField, _ g: FlowField) -> [Float] {
        roundTrip(f, g) { miss, magnitude in exp(-miss / (0.01 * magnitude + 0.5)) }
    }

    /// `weight`(r², |f|²) at every pixel, r the miss of following f and coming back by g.
    static func roundTrip(_ f: FlowField, _ g: FlowField, weight: (Float, Float) -> Float) -> [Float] {
        let w = f.width
        let h = f.height
        var out = [Float](repeating: 1, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let tx = Float(x) + f.u[i]
                let ty = Float(y) + f.v[i]
                let ru = f.u[i] + sample(g.u, w, h, tx, ty)
                let rv = f.v[i] + sample(g.v, w, h, tx, ty)
                out[i] = weight(ru * ru + rv * rv, f.u[i] * f.u[i] + f.v[i] * f.v[i])
            }
        }
        return out
    }

    /// A plane blurred by a Gaussian of standard deviation `sigma` pixels (taps to ±3σ, borders clamped).
    public static func blurred(_ p: [Float], width w: Int, height h: Int, sigma: Float) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        let taps = ImageQuality.gaussianTaps(count: 2 * radius + 1, sigma: sigma)
        var rows = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for k in -radius...radius { s += taps[k + radius] * p[y * w + min(w - 1, max(0, x + k))] }
                rows[y * w + x] = s
            }
        }
        var out = rows
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for k in -radius...radius { s += taps[k + radius] * rows[min(h - 1, max(0, y + k)) * w + x] }
                out[y * w + x] = s
            }
        }
        return out
    }

    /// Bilinear sample of a plane at (x, y), clamped at the borders.
    public static func sampleClamped(_ p: [Float], _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
        sample(p, w, h, x, y)
    }

    /// Linear motion between DIS flows both ways (Super SloMo's intermediate flows
    /// F_{t→0} = −(1−t)t·F_{0→1} + t²·F_{1→0}, F_{t→1} = (1−t)²·F_{0→1} − t(1−t)·F_{1→0}), bilinear backward warps,
    /// blend (1−t)·W₀ + t·W₁: what `OpenCVPeer` does, so the two estimators compare on the same footing.
    public static func linearMotionFrames(
        start: RGBImage, end: RGBImage, length l: Int, settings: DISFlow.Settings = DISFlow.Settings()
    ) -> [RGBImage] {
        let w = start.width
        let h = start.height
        let la = start.luma()
        let lb = end.luma()
        let pair = parallelMap(2) { k in
            k == 0
                ? DISFlow.flow(from: la, to: lb, width: w, height: h, settings: settings)
                : DISFlow.flow(from: lb, to: la, width: w, height: h, settings: settings)
        }
        let (fwd, bwd) = (pair[0], pair[1])
        let planesA = (0..<3).map { c in (0..<(w * h)).map { Float(start.pixels[3 * $0 + c]) } }
        let planesB = (0..<3).map { c in (0..<(w * h)).map { Float(end.pixels[3 * $0 + c]) } }
        return (1...l).map { k in
            let t = Float(k) / Float(l + 1)
            var px = [UInt8](repeating: 0, count: w * h * 3)
            for i in 0..<(w * h) {
                let x = Float(i % w)
                let y = Float(i / w)
                let ax = x - (1 - t) * t * fwd.u[i] + t * t * bwd.u[i]
                let ay = y - (1 - t) * t * fwd.v[i] + t * t * bwd.v[i]
                let bx = x + (1 - t) * (1 - t) * fwd.u[i] - t * (1 - t) * bwd.u[i]
                let by = y + (1 - t) * (1 - t) * fwd.v[i] - t * (1 - t) * bwd.v[i]
                for c in 0..<3 {
                    let v = (1 - t) * sample(planesA[c], w, h, ax, ay) + t * sample(planesB[c], w, h, bx, by)
                    px[3 * i + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
            return RGBImage(width: w, height: h, pixels: px)
        }
    }

    public static func frames(start: RGBImage, end: RGBImage, length l: Int) -> [RGBImage] {
        let w = start.width
        let h = start.height
        let la = start.luma()
        let lb = end.luma()
        let fwd = HornSchunck.flow(from: la, to: lb, width: w, height: h)
        let bwd = HornSchunck.flow(from: lb, to: la, width: w, height: h)
        let visA = FlowInterpolation.visibility(fwd, bwd)
        let visB = FlowInterpolation.visibility(bwd, fwd)
        let planesA = (0..<3).map { c in (0..<(w * h)).map { Float(start.pixels[3 * $0 + c]) } }
        let planesB = (0..<3).map { c in (0..<(w * h)).map { Float(end.pixels[3 * $0 + c]) } }
        return (1...l).map { k in
            let t = Float(k) / Float(l + 1)
            var px = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    // The pixel at p in frame t came from p − t·F_{s→e} in xˢ and p − (1−t)·F_{e→s} in xᵉ
                    // (flows sampled at p: the usual approximation for small motions).
                    let ax = Float(x) - t * fwd.u[i]
                    let ay = Float(y) - t * fwd.v[i]
                    let bx = Float(x) - (1 - t) * bwd.u[i]
                    let by = Float(y) - (1 - t) * bwd.v[i]
                    let wa = (1 - t) * sample(visA, w, h, ax, ay)
                    let wb = t * sample(visB, w, h, bx, by)
                    let norm = max(1e-4, wa + wb)
                    for c in 0..<3 {
                        let v = (wa * sample(planesA[c], w, h, ax, ay) + wb * sample(planesB[c], w, h, bx, by)) / norm
                        px[3 * i + c] = UInt8(max(0, min(255, v.rounded())))
                    }
                }
            }
            return RGBImage(width: w, height: h, pixels: px)
        }
    }
}

/// ffmpeg run as an external peer on PNG frames in a temporary folder.
public enum FFmpegPeer {
    public static var available: Bool { Subprocess.which("ffmpeg") != nil }

    public static func frames(_ method: Baseline, start: RGBImage, end: RGBImage, length l: Int) throws -> [RGBImage] {
        guard available else { throw MetricsError.externalMissing("ffmpeg") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-ffmpeg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try PNG.write(start, to: dir.appendingPathComponent("a.png"))
        try PNG.write(end, to: dir.appendingPathComponent("b.png"))
        let out = dir.appendingPathComponent("out_%03d.png").path
        var args = ["ffmpeg", "-v", "error", "-y"]
        switch method {
        case .ffmpegXfade:
            // Two stills of l+2 frames at 25 fps, faded over l+1 frame intervals.
            let d = Double(l + 1) / 25
            args += [
                "-loop", "1", "-t", String(format: "%.4f", d + 0.04), "-framerate", "25", "-i",
                dir.appendingPathComponent("a.png").path,
                "-loop", "1", "-t", String(format: "%.4f", d + 0.04), "-framerate", "25", "-i",
                dir.appendingPathComponent("b.png").path,
                "-filter_complex", String(format: "[0][1]xfade=transition=fade:duration=%.4f:offset=0,format=rgb24", d),
                "-frames:v", "\(l + 2)", "-start_number", "0", out
            ]
        case .ffmpegMinterpolate:
            // xˢ then xᵉ one second apart (xᵉ repeated: minterpolate needs frames after the pair
            // to emit it), motion-compensated up to l+1 frames per second.
            for (i, name) in ["a", "b", "b", "b"].enumerated() {
                try FileManager.default.copyItem(
                    at: dir.appendingPathComponent("\(name).png"), to: dir.appendingPathComponent("in_\(i).png"))
            }
            args += [
                "-framerate", "1", "-i", dir.appendingPathComponent("in_%1d.png").path,
                "-vf", "minterpolate=fps=\(l + 1):mi_mode=mci:mc_mode=aobmc:me_mode=bidir,format=rgb24",
                "-frames:v", "\(l + 2)", "-start_number", "0", out
            ]
        default: throw MetricsError.externalMissing(method.rawValue)
        }
        let r = try Subprocess.run(args, timeout: 120)
        guard r.status == 0 else { throw MetricsError.externalFailed(method.rawValue, r.output) }
        var frames: [RGBImage] = []
        for k in 1...l {
            let f = dir.appendingPathComponent(String(format: "out_%03d.png", k))
            guard FileManager.default.fileExists(atPath: f.path) else {
                throw MetricsError.externalFailed(method.rawValue, "frame \(k) missing")
            }
            frames.append(try PNG.read(f).rgb)
        }
        return frames
    }
}

public enum MetricsError: Error, CustomStringConvertible {
    case externalMissing(String)
    case externalFailed(String, String)
    case badInput(String)

    public var description: String {
        switch self {
        case .externalMissing(let p):
            return "\(p) is not installed (apt-get install ffmpeg); external baselines need it"
        case .externalFailed(let m, let out): return "\(m) failed: \(out.prefix(300))"
        case .badInput(let m): return m
        }
    }
}
