import Foundation
import Media

/// Draws a posed animal in its world with anti-aliased signed-distance shapes.
///
/// Coverage of each shape is clamp(0.5 − d, 0, 1) for the pixel-space signed
/// distance d, so edges are smooth at any size without supersampling.
public struct Renderer: Sendable {
    public let size: Int
    public let appearance: Appearance
    /// Pixels per body unit.
    public var unit: Float { Float(size) * 0.3 }
    public var groundLine: Float { Float(size) * 0.8 }
    private let salt: UInt32

    public init(size: Int, appearance: Appearance, seed: UInt64) {
        self.size = size
        self.appearance = appearance
        self.salt = UInt32(truncatingIfNeeded: seed &* 2654435761)
    }

    /// World body units → pixels for a camera at `camera`.
    @inline(__always) func toPixels(_ p: Point2, camera: Float) -> Point2 {
        Point2((p.x - camera) * unit + Float(size) / 2, groundLine - p.y * unit)
    }

    public func render(_ truth: FrameTruth) -> RGBImage {
        var canvas = Canvas(size: size)
        drawBackground(&canvas, camera: truth.camera)
        drawAnimal(&canvas, pose: truth.pose, camera: truth.camera)
        return canvas.image()
    }

    /// The same camera's view without the animal (what its silhouette is measured against).
    public func renderBackground(camera: Float) -> RGBImage {
        var canvas = Canvas(size: size)
        drawBackground(&canvas, camera: camera)
        return canvas.image()
    }

    private func drawBackground(_ c: inout Canvas, camera: Float) {
        let a = appearance
        let s = Float(size)
        let shift = camera * unit
        let horizon = groundLine - s * 0.12
        // Hill profiles per column (parallax 0.3 and 0.6).
        var far = [Float](repeating: 0, count: size)
        var near = [Float](repeating: 0, count: size)
        for x in 0..<size {
            let fx = Float(x)
            far[x] = horizon - s * (0.10 + 0.14 * valueNoise((fx + shift * 0.3) / (s * 0.35), 0.5, salt))
            near[x] =
                horizon + s * 0.02 - s * (0.03 + 0.10 * valueNoise((fx + shift * 0.6) / (s * 0.22), 3.5, salt &+ 7))
        }
        let sun = Point2(s * 0.78, s * (a.dusk ? 0.42 : 0.16))
        for y in 0..<size {
            let fy = Float(y)
            let t = min(1, fy / horizon)
            for x in 0..<size {
                var col: (Float, Float, Float)
                if fy >= groundLine - s * 0.02 + 0 && fy >= near[x] {
                    // Ground: textured, moving with the camera.
                    let depth = max(0.2, (fy - horizon) / (s - horizon))
                    let gx = (Float(x) + shift) / (3 + 3 * depth)
                    let n = valueNoise(gx, fy / 2.5, salt &+ 11) * 0.6 + valueNoise(gx * 0.25, fy / 9, salt &+ 13) * 0.4
                    let shade = (0.8 + 0.35 * n) * (0.85 + 0.2 * depth)
                    col = (a.ground[0] * shade, a.ground[1] * shade, a.ground[2] * shade)
                } else if fy >= near[x] {
                    let n = valueNoise((Float(x) + shift * 0.6) / 4, fy / 4, salt &+ 17)
                    let shade: Float = 0.9 + 0.15 * n
                    col = (a.nearHills[0] * shade, a.nearHills[1] * shade, a.nearHills[2] * shade)
                } else if fy >= far[x] {
                    col = (a.farHills[0], a.farHills[1], a.farHills[2])
                } else {
                    col = (
                        a.skyTop[0] + (a.skyHorizon[0] - a.skyTop[0]) * t,
                        a.skyTop[1] + (a.skyHorizon[1] - a.skyTop[1]) * t,
                        a.skyTop[2] + (a.skyHorizon[2] - a.skyTop[2]) * t
                    )
                    let d =
                        ((Float(x) - sun.x) * (Float(x) - sun.x) + (fy - sun.y) * (fy - sun.y)).squareRoot() - s * 0.06
                    let cov = min(1, max(0, 0.5 - d))
                    if cov > 0 {
                        let sc: (Float, Float, Float) = a.dusk ? (1, 0.6, 0.35) : (1, 0.97, 0.8)
                        col = (col.0 + (sc.0 - col.0) * cov, col.1 + (sc.1 - col.1) * cov, col.2 + (sc.2 - col.2) * cov)
                    }
                }
                c.set(x, y, col.0 * a.light, col.1 * a.light, col.2 * a.light)
            }
        }
    }

    private func drawAnimal(_ c: inout Canvas, pose: Pose, camera: Float) {
        let a = appearance
        let sk = Skeleton(pose: pose, appearance: a)
        let u = unit
        func px(_ p: Point2) -> Point2 { toPixels(p, camera: camera) }
        func shaded(_ col: [Float], _ k: Float) -> (Float, Float, Float) {
            (col[0] * k * a.light, col[1] * k * a.light, col[2] * k * a.light)
        }

        // Shadow on the ground, fainter as the body lifts.
        let shadowCentre = px(Point2(sk.torso.x, 0))
        let lift = max(0, sk.hooves.map(\.y).min() ?? 0)
        c.ellipse(
            centre: shadowCentre, radii: (sk.halfLength * u * 1.1 * max(0.15, abs(sk.facing)), 0.07 * u), angle: 0
        ) { _, _ in
            (0, 0, 0, 0.3 / (1 + 3 * lift))
        }
        let legWidth = 0.075 * u
        func leg(_ i: Int, darken: Float) {
            let colour = shaded(a.body, darken)
            c.capsule(px(sk.hips[i]), px(sk.knees[i]), r0: legWidth * 1.25, r1: legWidth * 0.9, colour: colour)
            c.capsule(px(sk.knees[i]), px(sk.hooves[i]), r0: legWidth * 0.9, r1: legWidth * 0.75, colour: colour)
            let hoofEnd = px(sk.hooves[i])
            c.capsule(
                Point2(hoofEnd.x, hoofEnd.y - legWidth * 0.9), hoofEnd, r0: legWidth * 0.95, r1: legWidth * 0.95,
                colour: shaded(a.hoof, 1))
        }
        // Far side first: right hind and right fore, in shadow.
        leg(1, darken: 0.62)
        leg(3, darken: 0.62)
        c.capsule(px(sk.tailBase), px(sk.tailTip), r0: 0.05 * u, r1: 0.02 * u, colour: shaded(a.body, 0.7))

        // Torso with shading, belly and coat pattern, in torso-local coordinates.
        let centre = px(sk.torso)
        let f = abs(sk.facing) < 0.04 ? (sk.facing < 0 ? -0.04 : 0.04) : sk.facing
        let hl = sk.halfLength * u
        let hh = sk.halfHeight * u
        let cp = cos(sk.pitch)
        let sp = sin(sk.pitch)
        c.ellipse(
            centre: centre, radii: (hl * abs(f) * 1.0 + 0.001, hh), angle: 0,
            transform: { dx, dy in
                // Pixel offset → torso-local units (x forward, y up).
                let wx = dx / f
                let wy = -dy
                return ((wx * cp + wy * sp) / hl, (-wx * sp + wy * cp) / hh)
            }, localRadii: (hl, hh)
        ) { lx, ly in
            var k: Float = 0.78 + 0.3 * ly
            var col = a.body
            if ly < -0.35 {
                let t = min(1, (-0.35 - ly) / 0.25)
                col = (0..<3).map { a.body[$0] + (a.belly[$0] - a.body[$0]) * t }
            }
            switch a.coat {
            case .plain: break
            case .spots:
                let gx = lx * 4
                let gy = ly * 2.5
                let cx = gx.rounded(.down)
                let cy = gy.rounded(.down)
                let ox = latticeHash(Int32(cx), Int32(cy), self.salt) * 0.6 + 0.2
                let oy = latticeHash(Int32(cx), Int32(cy), self.salt &+ 1) * 0.6 + 0.2
                let d = ((gx - cx - ox) * (gx - cx - ox) + (gy - cy - oy) * (gy - cy - oy)).squareRoot()
                let spot = min(1, max(0, (0.3 - d) * 12))
                if ly > -0.5 { col = (0..<3).map { col[$0] + (a.markings[$0] - col[$0]) * spot } }
            case .stripes:
                let band = sin(lx * 14 + 2 * sin(ly * 3))
                let stripe = min(1, max(0, (band - 0.45) * 4))
                if ly > -0.45 { col = (0..<3).map { col[$0] + (a.markings[$0] - col[$0]) * stripe } }
            }
            k = max(0.45, min(1.1, k))
            return (col[0] * k * a.light, col[1] * k * a.light, col[2] * k * a.light, 1)
        }
        // Neck, mane, head, ear, eye.
        let neckColour = shaded(a.body, 0.92)
        c.capsule(px(sk.neckBase), px(sk.neckTop), r0: 0.16 * u, r1: 0.1 * u, colour: neckColour)
        if a.mane {
            let up = Point2(0, 0.09)
            c.capsule(
                px(sk.neckBase + up), px(sk.neckTop + up * 0.6), r0: 0.05 * u, r1: 0.035 * u,
                colour: shaded(a.markings, 0.8))
        }
        c.capsule(px(sk.neckTop), px(sk.headTip), r0: 0.11 * u, r1: 0.065 * u, colour: shaded(a.body, 0.95))
        c.capsule(px(sk.neckTop), px(sk.ear), r0: 0.04 * u, r1: 0.015 * u, colour: shaded(a.body, 0.8))
        let eye = px(sk.neckTop + (sk.headTip - sk.neckTop) * 0.35 + Point2(0, 0.03))
        c.capsule(eye, eye, r0: 0.022 * u, r1: 0.022 * u, colour: (0.05, 0.04, 0.03))
        c.capsule(px(sk.headTip), px(sk.headTip), r0: 0.03 * u, r1: 0.03 * u, colour: shaded(a.hoof, 1.2))
        // Near legs last.
        leg(0, darken: 0.95)
        leg(2, darken: 0.95)
    }
}

/// A float RGB canvas with anti-aliased shape compositing.
struct Canvas {
    let size: Int
    var rgb: [Float]

    init(size: Int) {
        self.size = size
        rgb = [Float](repeating: 0, count: size * size * 3)
    }

    @inline(__always) mutating func set(_ x: Int, _ y: Int, _ r: Float, _ g: Float, _ b: Float) {
        let i = 3 * (y * size + x)
        rgb[i] = r
        rgb[i + 1] = g
        rgb[i + 2] = b
    }

    @inline(__always) mutating func blend(_ x: Int, _ y: Int, _ r: Float, _ g: Float, _ b: Float, _ alpha: Float) {
        let i = 3 * (y * size + x)
        rgb[i] += (r - rgb[i]) * alpha
        rgb[i + 1] += (g - rgb[i + 1]) * alpha
        rgb[i + 2] += (b - rgb[i + 2]) * alpha
    }

    /// A segment with radius varying from r0 to r1 (pixels).
    mutating func capsule(_ a: Point2, _ b: Point2, r0: Float, r1: Float, colour: (Float, Float, Float)) {
        let rMax = max(r0, r1) + 1
        let x0 = max(0, Int((min(a.x, b.x) - rMax).rounded(.down)))
        let x1 = min(size - 1, Int((max(a.x, b.x) + rMax).rounded(.up)))
        let y0 = max(0, Int((min(a.y, b.y) - rMax).rounded(.down)))
        let y1 = min(size - 1, Int((max(a.y, b.y) + rMax).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let dx = b.x - a.x
        let dy = b.y - a.y
        let len2 = max(1e-6, dx * dx + dy * dy)
        for y in y0...y1 {
            let py = Float(y) + 0.5 - a.y
            for x in x0...x1 {
                let pxv = Float(x) + 0.5 - a.x
                let h = min(1, max(0, (pxv * dx + py * dy) / len2))
                let ex = pxv - dx * h
                let ey = py - dy * h
                let d = (ex * ex + ey * ey).squareRoot() - (r0 + (r1 - r0) * h)
                let cov = min(1, max(0, 0.5 - d))
                if cov > 0 { blend(x, y, colour.0, colour.1, colour.2, cov) }
            }
        }
    }

    /// An ellipse whose colour comes from `paint(localX, localY)` in normalised local coordinates.
    /// Without a transform it is axis-aligned with the given pixel radii.
    mutating func ellipse(
        centre: Point2, radii: (Float, Float), angle: Float,
        transform: ((Float, Float) -> (Float, Float))? = nil, localRadii: (Float, Float)? = nil,
        paint: (Float, Float) -> (Float, Float, Float, Float)
    ) {
        let reach = max(radii.0, radii.1, localRadii.map { max($0.0, $0.1) } ?? 0) + 2
        let x0 = max(0, Int(centre.x - reach))
        let x1 = min(size - 1, Int(centre.x + reach) + 1)
        let y0 = max(0, Int(centre.y - reach))
        let y1 = min(size - 1, Int(centre.y + reach) + 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Float(x) + 0.5 - centre.x
                let dy = Float(y) + 0.5 - centre.y
                let (lx, ly) = transform?(dx, dy) ?? (dx / radii.0, -dy / radii.1)
                let k = (lx * lx + ly * ly).squareRoot()
                // Signed distance in pixels ≈ (k − 1) / |∇k|, estimated by a one-pixel finite difference.
                let (lx2, ly2) = transform?(dx + 1, dy) ?? ((dx + 1) / radii.0, -dy / radii.1)
                let (lx3, ly3) = transform?(dx, dy + 1) ?? (dx / radii.0, -(dy + 1) / radii.1)
                let gx = (lx2 * lx2 + ly2 * ly2).squareRoot() - k
                let gy = (lx3 * lx3 + ly3 * ly3).squareRoot() - k
                let g = max(1e-4, (gx * gx + gy * gy).squareRoot())
                let d = (k - 1) / g
                let cov = min(1, max(0, 0.5 - d))
                if cov > 0 {
                    let (r, gg, b, alpha) = paint(lx, ly)
                    blend(x, y, r, gg, b, cov * alpha)
                }
            }
        }
    }

    func image() -> RGBImage {
        var px = [UInt8](repeating: 0, count: size * size * 3)
        for i in 0..<px.count { px[i] = UInt8(max(0, min(255, (rgb[i] * 255).rounded()))) }
        return RGBImage(width: size, height: size, pixels: px)
    }
}
