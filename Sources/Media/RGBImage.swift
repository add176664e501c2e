import Core
import Foundation

/// An 8-bit RGB frame, rows top to bottom, pixels interleaved R, G, B.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: \(pixels.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            p[3 * i] = fill.0
            p[3 * i + 1] = fill.1
            p[3 * i + 2] = fill.2
        }
        self.pixels = p
    }

    @inline(__always) public func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let i = 3 * (y * width + x)
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Planar CHW floats in [0, 1] (what the metrics and the engine read).
    public func planarFloats() -> [Float] {
        let n = width * height
        var out = [Float](repeating: 0, count: 3 * n)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    dst[i] = Float(src[3 * i]) / 255
                    dst[n + i] = Float(src[3 * i + 1]) / 255
                    dst[2 * n + i] = Float(src[3 * i + 2]) / 255
                }
            }
        }
        return out
    }

    /// Inverse of `planarFloats`, clamping to [0, 1] and rounding.
    public init(width: Int, height: Int, planar: [Float]) {
        let n = width * height
        precondition(planar.count == 3 * n)
        var p = [UInt8](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for c in 0..<3 {
                let v = planar[c * n + i]
                p[3 * i + c] = UInt8(max(0, min(255, (v * 255).rounded())))
            }
        }
        self.init(width: width, height: height, pixels: p)
    }

    /// BT.601 luma in [0, 255] as Float (what SSIM and flow work on).
    public func luma() -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            out[i] = 0.299 * Float(pixels[3 * i]) + 0.587 * Float(pixels[3 * i + 1]) + 0.114 * Float(pixels[3 * i + 2])
        }
        return out
    }

    /// Bilinear resize (area-correct centres); used where swscale is not in the path.
    public func resized(width w: Int, height h: Int) -> RGBImage {
        if w == width && h == height { return self }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let sx = Float(width) / Float(w)
        let sy = Float(height) / Float(h)
        for y in 0..<h {
            let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), height - 1)
            let y1 = min(y0 + 1, height - 1)
            let wy = fy - Float(y0)
            for x in 0..<w {
                let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), width - 1)
                let x1 = min(x0 + 1, width - 1)
                let wx = fx - Float(x0)
                for c in 0..<3 {
                    let a = Float(pixels[3 * (y0 * width + x0) + c])
                    let b = Float(pixels[3 * (y0 * width + x1) + c])
                    let d = Float(pixels[3 * (y1 * width + x0) + c])
                    let e = Float(pixels[3 * (y1 * width + x1) + c])
                    let v = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy
                    out[3 * (y * w + x) + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}

extension RGBImage {
    /// The image turned by a right angle clockwise (90, 180 or 270 degrees; anything else returns it unchanged).
    public func rotated(clockwise degrees: Int) -> RGBImage {
        let w = width
        let h = height
        let turned = degrees == 90 || degrees == 270
        guard turned || degrees == 180 else { return self }
        let outW = turned ? h : w
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        // Where source pixel (x, y) lands in the turned picture.
                        let (ox, oy): (Int, Int)
                        switch degrees {
                        case 90: (ox, oy) = (h - 1 - y, x)
                        case 180: (ox, oy) = (w - 1 - x, h - 1 - y)
                        default: (ox, oy) = (y, w - 1 - x)
                        }
                        let from = 3 * (y * w + x)
                        let to = 3 * (oy * outW + ox)
                        dst[to] = src[from]
                        dst[to + 1] = src[from + 1]
                        dst[to + 2] = src[from + 2]
                    }
                }
            }
        }
        return RGBImage(width: outW, height: turned ? w : h, pixels: out)
    }
}
