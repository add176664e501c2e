import CPNG
import Core
import Foundation

/// An 8-bit image with 1 (gray), 3 (RGB) or 4 (RGBA) interleaved channels.
public struct PNGImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition([1, 3, 4].contains(channels) && pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(rgb: RGBImage) {
        self.init(width: rgb.width, height: rgb.height, channels: 3, pixels: rgb.pixels)
    }

    /// As RGB: gray is replicated, alpha is composited over black.
    public var rgb: RGBImage {
        if channels == 3 { return RGBImage(width: width, height: height, pixels: pixels) }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            switch channels {
            case 1:
                out[3 * i] = pixels[i]
                out[3 * i + 1] = pixels[i]
                out[3 * i + 2] = pixels[i]
            default:
                let a = UInt16(pixels[4 * i + 3])
                for c in 0..<3 { out[3 * i + c] = UInt8((UInt16(pixels[4 * i + c]) * a + 127) / 255) }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}

/// PNG through libpng's simplified API (no setjmp needed).
public enum PNG {
    private static func format(channels: Int) -> UInt32 {
        switch channels {
        case 1: return 0
        case 4: return UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        default: return UInt32(PNG_FORMAT_FLAG_COLOR)
        }
    }

    private static func message(_ image: inout png_image) -> String {
        let raw = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return readable(raw)
    }

    /// libpng's terse messages in words a user can act on (others pass as they are).
    static func readable(_ libpng: String) -> String {
        switch libpng {
        case "Read Error": return "it ends early: the file is cut short or still being written"
        case "Not a PNG file", "PNG file corrupted by ASCII conversion": return "it is not a PNG image"
        case _ where libpng.contains("CRC error"): return "its data is corrupt (\(libpng))"
        case "": return "libpng gave no reason"
        default: return libpng
        }
    }

    public static func read(_ url: URL) throws -> PNGImage {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw MediaError.fileNotFound(path) }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            // A file shorter than the signature reads as cut short to libpng; it may be no PNG at all.
            let head = OutputTarget.head(path)
            let png = !head.isEmpty && OutputTarget.pngSignature.starts(with: head)
            let m = png ? message(&image) : "it is not a PNG image"
            png_image_free(&image)
            throw MediaError.badPNG(path, reason: m)
        }
        let color = (image.format & UInt32(PNG_FORMAT_FLAG_COLOR)) != 0
        let alpha = (image.format & UInt32(PNG_FORMAT_FLAG_ALPHA)) != 0
        let channels = alpha ? 4 : (color ? 3 : 1)
        let w = Int(image.width)
        let h = Int(image.height)
        guard w > 0, h > 0, w * h <= 1 << 28 else {
            png_image_free(&image)
            throw MediaError.badPNG(path, reason: "implausible size \(w)×\(h)")
        }
        image.format = format(channels: channels)
        var pixels = [UInt8](repeating: 0, count: w * h * channels)
        let ok = pixels.withUnsafeMutableBytes { buf in
            png_image_finish_read(&image, nil, buf.baseAddress, Int32(w * channels), nil)
        }
        guard ok != 0 else {
            let m = message(&image)
            png_image_free(&image)
            throw MediaError.badPNG(path, reason: m)
        }
        return PNGImage(width: w, height: h, channels: channels, pixels: pixels)
    }

    public static func write(_ png: PNGImage, to url: URL, overwrite: Bool = false) throws {
        let out = try AtomicOutput(target: url, overwrite: overwrite)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(png.width)
        image.height = UInt32(png.height)
        image.format = format(channels: png.channels)
        // Encoded in memory, then written with our own write(): a full disk is then named as such
        // (libpng's file writer says only "Write Error"). The first guess fits any PNG but a pathological one.
        let rowBytes = png.width * png.channels
        var capacity = png.height * (rowBytes + 1) + png.height * rowBytes / 100 + 4096
        var encoded: [UInt8] = []
        var size = 0
        var message = ""
        for _ in 0..<2 {
            encoded = [UInt8](repeating: 0, count: capacity)
            var bytes = png_alloc_size_t(capacity)
            let ok = png.pixels.withUnsafeBytes { buf in
                encoded.withUnsafeMutableBytes { out in
                    png_image_write_to_memory(
                        &image, out.baseAddress, &bytes, 0, buf.baseAddress,
                        Int32(rowBytes), nil)
                }
            }
            if ok != 0 {
                size = Int(bytes)
                break
            }
            message = Self.message(&image)
            png_image_free(&image)
            guard Int(bytes) > capacity else { break }
            capacity = Int(bytes)
        }
        guard size > 0 else {
            out.discard()
            throw MediaError.encodeFailed(url.path, reason: "libpng could not encode the picture (\(message))")
        }
        do {
            try FileProblem.write(Data(encoded[0..<size]), toNewFile: out.temporary.path)
        } catch {
            out.discard()
            throw MediaError.encodeFailed(url.path, reason: FileProblem.reason(error))
        }
        try out.commit()
    }

    public static func write(_ rgb: RGBImage, to url: URL, overwrite: Bool = false) throws {
        try write(PNGImage(rgb: rgb), to: url, overwrite: overwrite)
    }
}
