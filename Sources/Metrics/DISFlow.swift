import CMetricsShim
import Core
import Foundation

/// Dense Inverse Search optical flow (Kroeger, Timofte, Dai, Van Gool, ECCV 2016), coarse to fine:
/// at every pyramid level, square patches on a regular grid each find their displacement by
/// inverse-compositional Lucas–Kanade (the Hessian of the reference patch is fixed, so an
/// iteration costs one bilinear sample per pixel), the patch flows are averaged into a dense
/// field weighted by how well each explains the pixel, and a few iterations of variational
/// refinement (linearised brightness constancy with a smoothness term) clean the field. A patch
/// that zero motion explains about as well as the coarser level's flow starts from zero (`Settings.stillCandidate`),
/// and on the coarse levels patches take a neighbour's motion where it explains them better (`Settings.propagation`).
///
/// Intensities are luma in 0…255. `flow(from: a, to: b)` gives, for every pixel p of `a`,
/// the displacement d with b(p + d) ≈ a(p).
public enum DISFlow {
    public struct Settings: Sendable {
        /// Patch side θ_ps and grid stride (OpenCV's medium preset: 8 and 3; 4 costs half as much).
        public var patch = 8
        public var stride = 4
        /// Gradient-descent iterations per patch θ_it.
        public var iterations = 16
        /// Variational refinement iterations per level, and its smoothness weight α (0…255 intensities;
        /// 20 as OpenCV's presets; 10 before, which left more spurious motion in textureless regions:
        /// linear-motion interpolation of the tuning transitions 27.53 dB with 10, 27.74 with 20).
        public var refinement = 5
        public var smoothness: Float = 20
        /// The refinement's energy: robust (`refineRobust`: Charbonnier penalties on brightness constancy,
        /// gradient constancy and the flow's gradient, as OpenCV's DIS refines) or quadratic (`refine`:
        /// linearised brightness constancy and quadratic smoothness, Horn–Schunck on the increment). Tuning sets
        /// (synthetic still and camera, opencv-doc clips; l = 12, PSNR): the default model 29.32 / 27.42 / 23.08 dB
        /// quadratic, 29.44 / 27.53 / 23.09 robust; our `dis` row 27.39 / 26.33 / 22.98 and 27.85 / 26.51 / 22.97.
        /// With robust refinement α = 10 or 40 gave 29.35 / 27.54 / 23.05 and 29.49 / 27.52 / 22.92.
        public var robust = true
        /// Robust refinement: weights of brightness constancy δ and gradient constancy γ (the smoothness weight
        /// is `smoothness`, α), and the successive over-relaxation sweeps per fixed-point iteration
        /// (`refinement` fixed-point iterations a level) with their relaxation ω.
        public var brightnessWeight: Float = 5
        public var gradientWeight: Float = 10
        public var sorIterations = 5
        public var relaxation: Float = 1.6
        /// Coarsest level: its shorter side is at least this many pixels.
        public var coarsestSide = 12
        /// Finest level computed: the smallest level of the pyramid whose longer side is at least this many pixels
        /// (the input itself when it is no longer); the flow is upsampled from it to the input's size. nil: always
        /// the input. A 640×360 pair is then searched and refined at 320×180, as OpenCV's medium preset does
        /// (finest scale 1): 41 ms instead of 150, EPE on the known-flow pairs 0.06 px instead of 0.04 (OpenCV's
        /// 0.06), and the same tuning-set quality (Samples/models/README.md).
        public var finestSide: Int? = 320
        /// Subtract each patch's mean before matching (robust to brightness changes).
        public var meanNormalised = true
        /// Zero motion competes with the coarser level's flow as a patch's start: it is taken unless the
        /// coarser flow matches at least `stillTolerance` times better (squared error). In
        /// flat or barely textured regions (sky, a static background) every displacement fits equally, and the
        /// coarse-to-fine scheme otherwise spreads the moving object's flow over them, which bends the edges a
        /// warp by that flow crosses. (Linear-motion interpolation of the synthetic tuning transitions:
        /// 27.20 dB without, 27.53 with; the known-flow pairs, textured everywhere, barely change.)
        public var stillCandidate = true
        public var stillTolerance: Float = 1.3
        /// Spatial propagation between neighbouring patches (`searchGrid`), as in OpenCV's DIS, on the pyramid
        /// levels at least this many halvings below the input (whatever `finestSide` computes); nil: none. On the
        /// coarse levels it carries a motion that one patch found to the patches of the same surface that started
        /// wrong, which is what large motions need; on the finest two it mostly spreads noise. (Default model,
        /// strength 0, real set 2 and the four earlier tuning sets' mean PSNR: none 24.88 / 25.87 dB, every level
        /// 25.07 / 25.48, from level 2 25.13 / 25.66; our `dis` row on set 2 24.55 without, 25.15 on every level,
        /// 24.89 from level 2, OpenCV's 25.12.)
        public var propagation: Int? = 2

        public init() {}

        /// A faster setting for large frames: fewer iterations, a sparser grid.
        public static var fast: Settings {
            var s = Settings()
            s.stride = 6
            s.iterations = 12
            s.refinement = 3
            return s
        }
    }

    public static func flow(
        from a: [Float], to b: [Float], width: Int, height: Int,
        settings: Settings = Settings()
    ) -> FlowField {
        precondition(a.count == width * height && b.count == width * height)
        var pyramid: [(a: [Float], b: [Float], w: Int, h: Int)] = [(a, b, width, height)]
        while let last = pyramid.last, min(last.w, last.h) / 2 >= max(settings.coarsestSide, settings.patch) {
            pyramid.append(
                (
                    Pyramid.halve(last.a, last.w, last.h), Pyramid.halve(last.b, last.w, last.h),
                    last.w / 2, last.h / 2
                ))
        }
        let finest =
            settings.finestSide.map { side in
                pyramid.lastIndex { max($0.w, $0.h) >= side } ?? 0
            } ?? 0
        var field = FlowField(width: pyramid[pyramid.count - 1].w, height: pyramid[pyramid.count - 1].h)
        for (index, level) in pyramid.enumerated().reversed() where index >= finest {
            if field.width != level.w || field.height != level.h {
                field = Pyramid.upsample(field, to: level.w, level.h)
            }
            if min(level.w, level.h) >= settings.patch {
                field = inverseSearch(
                    level.a, level.b, level.w, level.h, initial: field, settings: settings,
                    propagates: settings.propagation.map { index >= $0 } ?? false)
            }
            if settings.robust {
                refineRobust(&field, level.a, level.b, settings: settings)
            } else {
                refine(&field, level.a, level.b, iterations: settings.refinement, alpha: settings.smoothness)
            }
        }
        if field.width != width || field.height != height { field = Pyramid.upsample(field, to: width, height) }
        return field
    }

    /// Luma of two frames, then `flow(from:to:)`.
    public static func flow(from a: RGBLuma, to b: RGBLuma, settings: Settings = Settings()) -> FlowField {
        flow(from: a.values, to: b.values, width: a.width, height: a.height, settings: settings)
    }

    /// One level: patch search from the current field, then densification.
    static func inverseSearch(
        _ a: [Float], _ b: [Float], _ w: Int, _ h: Int, initial: FlowField,
        settings: Settings, propagates: Bool
    ) -> FlowField {
        let p = settings.patch
        let xs = gridPositions(length: w, patch: p, stride: settings.stride)
        let ys = gridPositions(length: h, patch: p, stride: settings.stride)
        let gx = Pyramid.gradientX(a, w, h)
        let gy = Pyramid.gradientY(a, w, h)
        let patches = searchGrid(
            a, b, gx, gy, w, h, xs: xs, ys: ys, initial: initial, settings: settings, propagates: propagates)
        // Densify: each pixel averages the patches that cover it, weighted by 1 / max(1, |b(p + d) − a(p)|).
        var out = FlowField(width: w, height: h)
        var sumU = [Float](repeating: 0, count: w * h)
        var sumV = sumU
        var sumW = sumU
        for (row, y0) in ys.enumerated() {
            for (col, x0) in xs.enumerated() {
                let (u, v) = patches[row * xs.count + col]
                for y in y0..<(y0 + p) {
                    for x in x0..<(x0 + p) {
                        let i = y * w + x
                        let diff = abs(sample(b, w, h, Float(x) + u, Float(y) + v) - a[i])
                        let weight = 1 / max(1, diff)
                        sumU[i] += weight * u
                        sumV[i] += weight * v
                        sumW[i] += weight
                    }
                }
            }
        }
        for i in 0..<(w * h) {
            if sumW[i] > 0 {
                out.u[i] = sumU[i] / sumW[i]
                out.v[i] = sumV[i] / sumW[i]
            } else {
                out.u[i] = initial.u[i]
                out.v[i] = initial.v[i]
            }
        }
        return out
    }

    /// Grid rows in a band of patches that propagate among themselves (bands run in parallel; a fixed height,
    /// so the flow does not depend on the machine's core count).
    static let propagationBand = 8

    /// Every grid patch's displacement, with spatial propagation if it `propagates`: two sweeps over
    /// each band of grid rows, the first from the top left, the second back from the bottom right. Before
    /// its descent a patch takes whichever of its own start and the results of the neighbours the sweep has
    /// already passed (left and above, then right and below) explains it best, so a motion one patch found
    /// reaches the patches of the same surface that the coarser level got wrong. Each sweep spends half of
    /// the descent's iterations. Without propagation, one descent from the start.
    static func searchGrid(
        _ a: [Float], _ b: [Float], _ gx: [Float], _ gy: [Float], _ w: Int, _ h: Int, xs: [Int], ys: [Int],
        initial: FlowField, settings: Settings, propagates: Bool
    ) -> [(Float, Float)] {
        let p = settings.patch
        let band = propagates ? propagationBand : 1
        let bands = (ys.count + band - 1) / band
        let results: [[(Float, Float)]] = parallelMap(bands) { k in
            let rows = (k * band)..<min(ys.count, (k + 1) * band)
            let patches = rows.flatMap { row in
                xs.map { x0 in Patch(a, gx, gy, w, x0: x0, y0: ys[row], patch: p, settings: settings) }
            }
            let columns = xs.count
            var flows = [(Float, Float)](repeating: (0, 0), count: patches.count)
            var starts = flows
            for (j, patch) in patches.enumerated() {
                let centre = (patch.y0 + p / 2) * w + patch.x0 + p / 2
                let start = (initial.u[centre], initial.v[centre])
                starts[j] = start
                flows[j] = patch.stillWins(b, h, start) ? (0, 0) : start
            }
            guard propagates else {
                return patches.indices.map { j in
                    patches[j].descend(b, h, from: flows[j], iterations: settings.iterations, prior: starts[j])
                }
            }
            let first = settings.iterations / 2
            let sweeps: [(order: [Int], neighbours: [Int], iterations: Int)] = [
                (Array(patches.indices), [-1, -columns], first),
                (patches.indices.reversed(), [1, columns], settings.iterations - first)
            ]
            for sweep in sweeps {
                for j in sweep.order {
                    var best = flows[j]
                    var bestCost = patches[j].cost(b, h, best)
                    for offset in sweep.neighbours {
                        let n = j + offset
                        // The neighbour left or right must be in the same grid row.
                        guard n >= 0, n < patches.count, abs(offset) != 1 || n / columns == j / columns else {
                            continue
                        }
                        let c = patches[j].cost(b, h, flows[n])
                        if c < bestCost {
                            best = flows[n]
                            bestCost = c
                        }
                    }
                    flows[j] = patches[j].descend(b, h, from: best, iterations: sweep.iterations, prior: best)
                }
            }
            return flows
        }
        return results.flatMap { $0 }
    }

    /// Patch origins covering 0..<length with the given stride, the last flush with the end.
    static func gridPositions(length: Int, patch: Int, stride: Int) -> [Int] {
        guard length >= patch else { return [] }
        var out = Array(Swift.stride(from: 0, through: length - patch, by: max(1, stride)))
        if out.last != length - patch { out.append(length - patch) }
        return out
    }

    /// One grid patch of `a` with what its inverse-compositional search needs: the reference patch's mean and
    /// the inverse of its Hessian (fixed, as the search differentiates the reference, not the warped image).
    struct Patch {
        let a: [Float]
        let gx: [Float]
        let gy: [Float]
        let w: Int
        let x0: Int
        let y0: Int
        let p: Int
        let settings: Settings
        let meanT: Float
        /// The inverse Hessian (with a small ridge); nil for a patch with no texture at all.
        let inverse: (xx: Float, xy: Float, yy: Float)?

        init(_ a: [Float], _ gx: [Float], _ gy: [Float], _ w: Int, x0: Int, y0: Int, patch p: Int, settings: Settings) {
            self.a = a
            self.gx = gx
            self.gy = gy
            self.w = w
            self.x0 = x0
            self.y0 = y0
            self.p = p
            self.settings = settings
            var hxx: Float = 0
            var hxy: Float = 0
            var hyy: Float = 0
            var mean: Float = 0
            for y in y0..<(y0 + p) {
                for x in x0..<(x0 + p) {
                    let i = y * w + x
                    hxx += gx[i] * gx[i]
                    hxy += gx[i] * gy[i]
                    hyy += gy[i] * gy[i]
                    mean += a[i]
                }
            }
            let n = Float(p * p)
            meanT = mean / n
            // A small ridge keeps flat patches (no texture) where the coarser level put them.
            let ridge: Float = 1e-2 * n
            let det = (hxx + ridge) * (hyy + ridge) - hxy * hxy
            inverse = det > 1e-6 ? ((hyy + ridge) / det, -hxy / det, (hxx + ridge) / det) : nil
        }

        /// Each pixel's residual at displacement d, b(q + d) − a(q), less the difference of the two patches'
        /// means when mean-normalised, into `r` (p² values).
        func residuals(_ b: [Float], _ h: Int, _ d: (Float, Float), into r: inout [Float]) {
            var meanW: Float = 0
            for y in 0..<p {
                for x in 0..<p {
                    let value = sample(b, w, h, Float(x0 + x) + d.0, Float(y0 + y) + d.1)
                    r[y * p + x] = value
                    meanW += value
                }
            }
            meanW /= Float(p * p)
            let offset = settings.meanNormalised ? meanW - meanT : 0
            for y in 0..<p {
                for x in 0..<p {
                    r[y * p + x] = r[y * p + x] - offset - a[(y0 + y) * w + x0 + x]
                }
            }
        }

        /// The squared error the search minimises at displacement d.
        func cost(_ b: [Float], _ h: Int, _ d: (Float, Float)) -> Float {
            var r = [Float](repeating: 0, count: p * p)
            residuals(b, h, d, into: &r)
            return r.reduce(0) { $0 + $1 * $1 }
        }

        /// Whether zero motion explains the patch about as well as d (`Settings.stillCandidate`).
        func stillWins(_ b: [Float], _ h: Int, _ d: (Float, Float)) -> Bool {
            settings.stillCandidate && (d.0 != 0 || d.1 != 0)
                && cost(b, h, (0, 0)) <= settings.stillTolerance * cost(b, h, d)
        }

        /// Inverse-compositional Lucas–Kanade from d: minimise Σ (T(q + Δ) − b(q + d))² over Δ, then d ← d − Δ,
        /// until the error stops falling. A patch that wanders further than its own size from `prior` found
        /// something else and keeps the prior.
        func descend(_ b: [Float], _ h: Int, from d: (Float, Float), iterations: Int, prior: (Float, Float))
            -> (Float, Float)
        {
            guard let inverse else { return d }
            var u = d.0
            var v = d.1
            var r = [Float](repeating: 0, count: p * p)
            var lastError = Float.infinity
            for _ in 0..<iterations {
                residuals(b, h, (u, v), into: &r)
                var bx: Float = 0
                var by: Float = 0
                var error: Float = 0
                for y in 0..<p {
                    for x in 0..<p {
                        let i = (y0 + y) * w + x0 + x
                        bx += gx[i] * r[y * p + x]
                        by += gy[i] * r[y * p + x]
                        error += r[y * p + x] * r[y * p + x]
                    }
                }
                if error > lastError * 1.0001 { break }
                lastError = error
                let du = inverse.xx * bx + inverse.xy * by
                let dv = inverse.xy * bx + inverse.yy * by
                u -= du
                v -= dv
                if du * du + dv * dv < 1e-4 { break }
            }
            let moved = (u - prior.0) * (u - prior.0) + (v - prior.1) * (v - prior.1)
            if moved > Float(p * p) || !u.isFinite || !v.isFinite { return prior }
            return (u, v)
        }
    }

    /// Variational refinement of the whole field: brightness constancy linearised around the current
    /// warp, quadratic smoothness on the total flow, Jacobi iterations on the increment.
    static func refine(_ field: inout FlowField, _ a: [Float], _ b: [Float], iterations: Int, alpha: Float) {
        guard iterations > 0 else { return }
        let w = field.width
        let h = field.height
        let warped = field.warp(b)
        let wx = Pyramid.gradientX(warped, w, h)
        let wy = Pyramid.gradientY(warped, w, h)
        let ax = Pyramid.gradientX(a, w, h)
        let ay = Pyramid.gradientY(a, w, h)
        var ix = [Float](repeating: 0, count: w * h)
        var iy = ix
        var it = ix
        for i in 0..<(w * h) {
            ix[i] = 0.5 * (wx[i] + ax[i])
            iy[i] = 0.5 * (wy[i] + ay[i])
            it[i] = warped[i] - a[i]
        }
        let a2 = alpha * alpha
        var du = [Float](repeating: 0, count: w * h)
        var dv = du
        for _ in 0..<iterations {
            var nu = du
            var nv = dv
            for y in 0..<h {
                let ym = max(y - 1, 0) * w
                let yp = min(y + 1, h - 1) * w
                for x in 0..<w {
                    let i = y * w + x
                    let xm = y * w + max(x - 1, 0)
                    let xp = y * w + min(x + 1, w - 1)
                    let up = ym + x
                    let down = yp + x
                    var ubar = field.u[xm] + du[xm] + field.u[xp] + du[xp]
                    ubar += field.u[up] + du[up] + field.u[down] + du[down]
                    var vbar = field.v[xm] + dv[xm] + field.v[xp] + dv[xp]
                    vbar += field.v[up] + dv[up] + field.v[down] + dv[down]
                    // Neighbour average of the total flow, less this pixel's current flow.
                    ubar = 0.25 * ubar - field.u[i]
                    vbar = 0.25 * vbar - field.v[i]
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
}

extension DISFlow {
    /// Robust variational refinement of the whole field: the increment (du, dv) minimises
    /// ∫ δ·Ψ(E_I) + γ·Ψ(E_G) + α·Ψ(|∇(u + du)|² + |∇(v + dv)|²), Ψ(s²) = √(s² + ε²) (Brox, Bruhn, Papenberg,
    /// Weickert 2004; the energy OpenCV's DIS refines with), where E_I is brightness constancy and E_G gradient
    /// constancy, both linearised around the current warp of `b` and normalised by the squared gradient they are
    /// measured along plus ζ² (Zimmer et al. 2011), so a strong edge does not outweigh a faint one. Derivatives
    /// are taken on the mean of `a` and the warped `b`. Each fixed-point iteration freezes the penalties'
    /// weights and solves the resulting linear system with red–black successive over-relaxation. Unlike the
    /// quadratic energy, the robust one lets the flow jump at an object's edge and ignores pixels that no
    /// displacement explains (occlusions), instead of spreading their error over the neighbourhood.
    static func refineRobust(_ field: inout FlowField, _ a: [Float], _ b: [Float], settings s: Settings) {
        guard s.refinement > 0 else { return }
        let w = field.width
        let h = field.height
        let n = w * h
        let warped = field.warp(b)
        var mean = [Float](repeating: 0, count: n)
        var iz = mean
        for i in 0..<n {
            mean[i] = 0.5 * (a[i] + warped[i])
            iz[i] = warped[i] - a[i]
        }
        let ix = Pyramid.gradientX(mean, w, h)
        let iy = Pyramid.gradientY(mean, w, h)
        let ixx = Pyramid.gradientX(ix, w, h)
        let ixy = Pyramid.gradientY(ix, w, h)
        let iyy = Pyramid.gradientY(iy, w, h)
        let ixz = Pyramid.gradientX(iz, w, h)
        let iyz = Pyramid.gradientY(iz, w, h)
        var du = [Float](repeating: 0, count: n)
        var dv = du
        let planes = [ix, iy, iz, ixx, ixy, iyy, ixz, iyz].flatMap { $0 }
        // The fixed-point iterations and their red–black over-relaxation, in C (CMetricsShim.h).
        let done = mavin_flow_refine(
            &du, &dv, field.u, field.v, planes, Int32(w), Int32(h), s.brightnessWeight / 2, s.gradientWeight / 2,
            s.smoothness / 2, Int32(s.refinement), Int32(s.sorIterations), s.relaxation)
        guard done == 1 else { return }
        for i in 0..<n {
            field.u[i] += du[i]
            field.v[i] += dv[i]
        }
    }
}

/// A luma plane (0…255) with its size.
public struct RGBLuma: Sendable {
    public let width: Int
    public let height: Int
    public let values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        self.width = width
        self.height = height
        self.values = values
    }
}

/// Image pyramid helpers shared by the flow estimators.
enum Pyramid {
    /// 2× box downsampling (odd last rows/columns dropped).
    static func halve(_ p: [Float], _ w: Int, _ h: Int) -> [Float] {
        let w2 = w / 2
        let h2 = h / 2
        var out = [Float](repeating: 0, count: w2 * h2)
        for y in 0..<h2 {
            for x in 0..<w2 {
                let top = p[2 * y * w + 2 * x] + p[2 * y * w + 2 * x + 1]
                let bottom = p[(2 * y + 1) * w + 2 * x] + p[(2 * y + 1) * w + 2 * x + 1]
                out[y * w2 + x] = 0.25 * (top + bottom)
            }
        }
        return out
    }

    /// Bilinear upsampling of a flow field to w×h, with the vectors scaled to the new pixel size.
    static func upsample(_ f: FlowField, to w: Int, _ h: Int) -> FlowField {
        var g = FlowField(width: w, height: h)
        let sx = Float(f.width) / Float(w)
        let sy = Float(f.height) / Float(h)
        for y in 0..<h {
            for x in 0..<w {
                let fx = (Float(x) + 0.5) * sx - 0.5
                let fy = (Float(y) + 0.5) * sy - 0.5
                g.u[y * w + x] = sample(f.u, f.width, f.height, fx, fy) / sx
                g.v[y * w + x] = sample(f.v, f.width, f.height, fx, fy) / sy
            }
        }
        return g
    }

    /// Central differences (one-sided at the borders).
    static func gradientX(_ p: [Float], _ w: Int, _ h: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w * h)
        guard w > 1 else { return out }
        for y in 0..<h {
            for x in 0..<w {
                let xm = max(x - 1, 0)
                let xp = min(x + 1, w - 1)
                out[y * w + x] = (p[y * w + xp] - p[y * w + xm]) / Float(xp - xm)
            }
        }
        return out
    }

    static func gradientY(_ p: [Float], _ w: Int, _ h: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w * h)
        guard h > 1 else { return out }
        for y in 0..<h {
            let ym = max(y - 1, 0)
            let yp = min(y + 1, h - 1)
            for x in 0..<w {
                out[y * w + x] = (p[yp * w + x] - p[ym * w + x]) / Float(yp - ym)
            }
        }
        return out
    }
}
