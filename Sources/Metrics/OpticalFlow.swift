import Foundation
import Media

/// A dense flow field: for each pixel of the reference, its displacement (u, v) in pixels.
public struct FlowField: Sendable {
    public let width: Int, height: Int
    public var u: [Float], v: [Float]

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        u = [Float](repeating: 0, count: width * height)
        v = u
    }

    /// A plane of the same size sampled along this field: out(p) = plane(p + F(p)), bilinear, border-clamped.
    public func warp(_ plane: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                out[i] = sample(plane, width, height, Float(x) + u[i], Float(y) + v[i])
            }
        }
        return out
    }

    /// The field's dominant affine motion, u = a₀ + a₁x + a₂y and v = b₀ + b₁x + b₂y (a camera's pan, zoom
    /// and roll over a far scene): weighted least squares from `weights` (e.g. forward–backward consistency),
    /// then iteratively reweighted by a Cauchy factor 1 / (1 + r²/c²) of each point's miss r, c = `scale`
    /// pixels, and in the last two passes points more than 3c off dropped, so that what moves on its own (an
    /// animal, its limbs) drops out. All zero weights: zero motion.
    public func affineFit(weights: [Float], scale c: Float = 1, iterations: Int = 5) -> FlowField {
        precondition(weights.count == width * height)
        let n = width * height
        // Coordinates centred and scaled to ±1, for a well-conditioned 3×3 system.
        let sx = 2 / Float(max(1, width - 1))
        let sy = 2 / Float(max(1, height - 1))
        var fit = FlowField(width: width, height: height)
        var w = weights
        for iteration in 0...iterations {
            // Normal equations Σ w·φφᵀ · a = Σ w·φ·u with φ = (1, x, y), for u and v at once.
            var m = [Double](repeating: 0, count: 9)
            var ru = [Double](repeating: 0, count: 3)
            var rv = [Double](repeating: 0, count: 3)
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    let phi = [1, Double(Float(x) * sx - 1), Double(Float(y) * sy - 1)]
                    let wi = Double(w[i])
                    for r in 0..<3 {
                        for k in 0..<3 { m[3 * r + k] += wi * phi[r] * phi[k] }
                        ru[r] += wi * phi[r] * Double(u[i])
                        rv[r] += wi * phi[r] * Double(v[i])
                    }
                }
            }
            guard let a = FlowField.solve3(m, ru), let b = FlowField.solve3(m, rv) else {
                return FlowField(width: width, height: height)
            }
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    let px = Double(Float(x) * sx - 1)
                    let py = Double(Float(y) * sy - 1)
                    fit.u[i] = Float(a[0] + a[1] * px + a[2] * py)
                    fit.v[i] = Float(b[0] + b[1] * px + b[2] * py)
                }
            }
            guard iteration < iterations else { break }
            // The last two passes also drop points more than 3c off: what is left is the camera's alone.
            let trim = iteration >= iterations - 2
            for i in 0..<n {
                let du = u[i] - fit.u[i]
                let dv = v[i] - fit.v[i]
                let r2 = (du * du + dv * dv) / (c * c)
                w[i] = trim && r2 > 9 ? 0 : weights[i] / (1 + r2)
            }
        }
        return fit
    }

    /// The solution of a 3×3 system (row-major m) by Cramer's rule; nil when it is (nearly) singular.
    static func solve3(_ m: [Double], _ r: [Double]) -> [Double]? {
        func det(_ a: [Double]) -> Double {
            a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6])
        }
        let d = det(m)
        guard abs(d) > 1e-9 * max(1, abs(m[0] * m[4] * m[8])) else { return nil }
        return (0..<3).map { k in
            var a = m
            for row in 0..<3 { a[3 * row + k] = r[row] }
            return det(a) / d
        }
    }

    public var meanMagnitude: Float {
        var s: Float = 0
        for i in 0..<u.count { s += (u[i] * u[i] + v[i] * v[i]).squareRoot() }
        return s / Float(max(1, u.count))
    }
}

/// Bilinear sample of a plane at (x, y), clamped at the borders.
@inline(__always) func sample(_ p: [Float], _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
    let xc = min(max(x, 0), Float(w - 1))
    let yc = min(max(y, 0), Float(h - 1))
    let x0 = Int(xc)
    let y0 = Int(yc)
    let x1 = min(x0 + 1, w - 1)
    let y1 = min(y0 + 1, h - 1)
    let fx = xc - Float(x0)
    let fy = yc - Float(y0)
    let a = p[y0 * w + x0] + (p[y0 * w + x1] - p[y0 * w + x0]) * fx
    let b = p[y1 * w + x0] + (p[y1 * w + x1] - p[y1 * w + x0]) * fx
    return a + (b - a) * fy
}

/// Horn–Schunck optical flow, coarse to fine: at each pyramid level the second image
/// is warped by the current flow and HS refines it (smoothness α on intensities in [0, 1]).
/// α = 0.3 with 200 iterations: smaller α fits noise and brightness changes and the warps ghost.
public enum HornSchunck {
    public static func flow(
        from a: [Float], to b: [Float], width: Int, height: Int,
        alpha: Float = 0.3, iterations: Int = 200, minSide: Int = 12
    ) -> FlowField {
        // Pyramids of [0, 1] luma.
        var levels: [([Float], [Float], Int, Int)] = [(a.map { $0 / 255 }, b.map { $0 / 255 }, width, height)]
        while let last = levels.last, min(last.2, last.3) / 2 >= minSide {
            let (pa, pb, w, h) = last
            levels.append((Pyramid.halve(pa, w, h), Pyramid.halve(pb, w, h), w / 2, h / 2))
        }
        var field = FlowField(width: levels.last!.2, height: levels.last!.3)
        for (li, level) in levels.enumerated().reversed() {
            let (pa, pb, w, h) = level
            if field.width != w || field.height != h { field = Pyramid.upsample(field, to: w, h) }
            // Warp b back by the current flow, then estimate the increment.
            var warped = [Float](repeating: 0, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    warped[i] = sample(pb, w, h, Float(x) + field.u[i], Float(y) + field.v[i])
                }
            }
            var du = [Float](repeating: 0, count: w * h)
            var dv = du
            var ix = du
            var iy = du
            var it = du
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    let xp = min(x + 1, w - 1)
                    let xm = max(x - 1, 0)
                    let yp = min(y + 1, h - 1)
                    let ym = max(y - 1, 0)
                    ix[i] = 0.25 * (pa[y * w + xp] - pa[y * w + xm] + warped[y * w + xp] - warped[y * w + xm])
                    iy[i] = 0.25 * (pa[yp * w + x] - pa[ym * w + x] + warped[yp * w + x] - warped[ym * w + x])
                    it[i] = warped[i] - pa[i]
                }
            }
            let a2 = alpha * alpha
            let iters = li == 0 ? iterations : iterations / 2
            for _ in 0..<iters {
                var nu = du
                var nv = dv
                for y in 0..<h {
                    for x in 0..<w {
                        let i = y * w + x
                        let xp = min(x + 1, w - 1)
                        let xm = max(x - 1, 0)
                        let yp = min(y + 1, h - 1)
                        let ym = max(y - 1, 0)
                        // Neighbour averages of the total flow, so smoothness applies to it, not the increment.
                        let ubar =
                            0.25
                            * (du[y * w + xp] + du[y * w + xm] + du[yp * w + x] + du[ym * w + x]
                                + field.u[y * w + xp] + field.u[y * w + xm] + field.u[yp * w + x] + field.u[ym * w + x])
                            - field.u[i]
                        let vbar =
                            0.25
                            * (dv[y * w + xp] + dv[y * w + xm] + dv[yp * w + x] + dv[ym * w + x]
                                + field.v[y * w + xp] + field.v[y * w + xm] + field.v[yp * w + x] + field.v[ym * w + x])
                            - field.v[i]
                        let t = (ix[i] * ubar + iy[i] * vbar + it[i]) / (a2 + ix[i] * ix[i] + iy[i] * iy[i])
                        nu[i] = ubar - ix[i] * t
                        nv[i] = vbar - iy[i] * t
                    }
                }
                du = nu
                dv = nv
            }
            for i in 0..<(w * h) {
                field.u[i] += du[i]
                field.v[i] += dv[i]
            }
        }
        return field
    }
}
