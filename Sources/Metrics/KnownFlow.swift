import Core
import Foundation

/// Image pairs whose flow is known exactly, for measuring flow estimators: the second image is
/// the first sampled along a smooth analytic field, b(p) = a(p + G(p)), so the flow from b to a
/// is G itself at every pixel.
public enum KnownFlow {
    /// Rotation about a random centre, zoom and translation, plus a Gaussian bump of local motion;
    /// the largest displacement is about `magnitude` pixels.
    public static func field(width w: Int, height h: Int, magnitude: Float, seed: UInt64) -> FlowField {
        var rng = SplitMix64(seed: seed)
        let angle = Float.random(in: -1...1, using: &rng) * 0.3 * magnitude / Float(max(w, h))
        let zoom = Float.random(in: -1...1, using: &rng) * 0.3 * magnitude / Float(max(w, h))
        let tx = Float.random(in: -1...1, using: &rng) * 0.4 * magnitude
        let ty = Float.random(in: -1...1, using: &rng) * 0.4 * magnitude
        let cx = Float.random(in: 0.3...0.7, using: &rng) * Float(w)
        let cy = Float.random(in: 0.3...0.7, using: &rng) * Float(h)
        let bx = Float.random(in: 0.3...0.7, using: &rng) * Float(w)
        let by = Float.random(in: 0.3...0.7, using: &rng) * Float(h)
        let radius = Float(min(w, h)) * 0.15
        let bumpU = Float.random(in: -1...1, using: &rng) * 0.5 * magnitude
        let bumpV = Float.random(in: -1...1, using: &rng) * 0.5 * magnitude
        var f = FlowField(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let dx = Float(x) - cx
                let dy = Float(y) - cy
                let g = Foundation.exp(
                    -((Float(x) - bx) * (Float(x) - bx) + (Float(y) - by) * (Float(y) - by))
                        / (2 * radius * radius))
                f.u[y * w + x] = tx + zoom * dx - angle * dy + g * bumpU
                f.v[y * w + x] = ty + zoom * dy + angle * dx + g * bumpV
            }
        }
        return f
    }

    /// b(p) = a(p + G(p)), bilinear, border-clamped.
    public static func warped(_ a: [Float], by g: FlowField) -> [Float] { g.warp(a) }

    /// Mean end-point error over the pixels whose true target lies inside the image, `margin` pixels
    /// from the border (outside it the image holds no evidence of the motion).
    public static func endPointError(_ f: FlowField, truth g: FlowField, margin: Int = 2) -> Float {
        let w = g.width
        let h = g.height
        var total: Double = 0
        var n = 0
        for y in margin..<(h - margin) {
            for x in margin..<(w - margin) {
                let i = y * w + x
                let tx = Float(x) + g.u[i]
                let ty = Float(y) + g.v[i]
                guard tx >= Float(margin), ty >= Float(margin), tx <= Float(w - 1 - margin),
                    ty <= Float(h - 1 - margin)
                else { continue }
                let du = f.u[i] - g.u[i]
                let dv = f.v[i] - g.v[i]
                total += Double((du * du + dv * dv).squareRoot())
                n += 1
            }
        }
        return Float(total / Double(max(1, n)))
    }
}
