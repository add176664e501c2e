import Core
import Foundation
import Media
import Tensor

/// A moving camera laid over footage shot from a still one (the synthetic takes never move theirs,
/// while users' clips pan, zoom and shake): each frame of a window is resampled through its own
/// similarity transform about the centre, following a smooth random path plus handheld jitter.
/// A base zoom keeps the view inside the source, so no border is smeared in.
public struct CameraMotion: Sendable {
    /// Per frame: (translation x, y in pixels, scale, rotation in radians).
    public var path: [(x: Float, y: Float, scale: Float, angle: Float)]

    /// A path over `frames` frames of side R: pan up to `pan` pixels a frame, zoom up to ±0.6 % a frame,
    /// jitter of about `shake` pixels.
    public static func random<G: RandomNumberGenerator>(
        frames: Int, side R: Int, pan: Float = 1.2, shake: Float = 0.6,
        using rng: inout G
    ) -> CameraMotion {
        let vx = Float.random(in: -pan...pan, using: &rng)
        let vy = Float.random(in: -pan...pan, using: &rng) * 0.5
        let zoom = Float.random(in: -0.006...0.006, using: &rng)
        let spin = Float.random(in: -0.002...0.002, using: &rng)
        let jitter = Bool.random(using: &rng) ? shake : 0
        var jx: Float = 0
        var jy: Float = 0
        let centre = Float(frames - 1) / 2
        let path = (0..<frames).map { n -> (x: Float, y: Float, scale: Float, angle: Float) in
            // Jitter as a damped random walk: handheld motion is smooth from frame to frame.
            jx = 0.6 * jx + jitter * Float.random(in: -1...1, using: &rng)
            jy = 0.6 * jy + jitter * Float.random(in: -1...1, using: &rng)
            let u = Float(n) - centre
            return (vx * u + jx, vy * u + jy, 1 + zoom * u, spin * u)
        }
        return CameraMotion(path: path)
    }

    /// The frames seen through the moving camera (same size), with a base zoom so that the largest
    /// excursion of the path stays inside the source picture.
    public func apply(_ frames: [RGBImage]) -> [RGBImage] {
        precondition(frames.count == path.count)
        return parallelMap(frames.count) { n in view(frames[n], at: n) }
    }

    /// Frame n of the path's window seen through the camera (the base zoom is the whole path's, so a
    /// frame rendered apart from its window, such as a background for the silhouette, lines up with it).
    public func view(_ frame: RGBImage, at n: Int) -> RGBImage {
        let w = frame.width
        let h = frame.height
        let reach = path.map { max(abs($0.x), abs($0.y)) + Float(max(w, h)) * abs($0.scale - 1) }.max() ?? 0
        let base = 1 / (1 - min(0.4, 2 * reach / Float(min(w, h)) + 0.02))
        let p = path[n]
        // Output pixel q looks at source c + R(θ)·(q − c)/(base·scale) − t.
        let k = 1 / (base * p.scale)
        let cosA = Foundation.cos(p.angle) * k
        let sinA = Foundation.sin(p.angle) * k
        let cx = Float(w - 1) / 2
        let cy = Float(h - 1) / 2
        var flow = [Float](repeating: 0, count: 2 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                let dx = Float(x) - cx
                let dy = Float(y) - cy
                let sx = cx + cosA * dx - sinA * dy - p.x
                let sy = cy + sinA * dx + cosA * dy - p.y
                flow[y * w + x] = sx - Float(x)
                flow[w * h + y * w + x] = sy - Float(y)
            }
        }
        var out = [Float](repeating: 0, count: 3 * w * h)
        warpForward(out: &out, image: frame.planarFloats(), flow: flow, channels: 3, height: h, width: w)
        return RGBImage(width: w, height: h, planar: out)
    }
}
