import CPNG
import Foundation
import Media

/// The kitty graphics protocol, the parts the Studio uses: transmit an image once under an id
/// (raw RGB, `f=24`, base64 in chunks of at most 4096 bytes), place it by id on a cell rectangle,
/// delete placements and free images. `q=2` on every escape, so the terminal never answers into
/// the key stream (kitty wants q repeated in every chunk).
public enum KittyGraphics {
    public static let chunkSize = 4096

    /// `ESC _ G a=t,f=24,s=W,v=H,i=ID,q=2,m=1 ; chunk ESC \` then `ESC _ G m=1,q=2 ; chunk ESC \` …, last m=0.
    public static func transmit(_ img: RGBImage, id: Int) -> [String] {
        let payload = Array(Data(img.pixels).base64EncodedString().utf8)
        var escapes: [String] = []
        var start = 0
        repeat {
            let end = min(payload.count, start + chunkSize)
            let more = end < payload.count ? 1 : 0
            let keys = start == 0 ? "a=t,f=24,s=\(img.width),v=\(img.height),i=\(id),q=2,m=\(more)" : "m=\(more),q=2"
            var bytes = Array("\u{1B}_G\(keys);".utf8)
            bytes += payload[start..<end]
            bytes += [0x1B, UInt8(ascii: "\\")]
            escapes.append(String(decoding: bytes, as: UTF8.self))
            start = end
        } while start < payload.count
        return escapes
    }

    /// The image as a temporary file the terminal reads and deletes (`t=t`): raw RGB on disk instead of base64
    /// through the tty. Nil when the file cannot be written (then `transmit` is the way).
    public static func transmitFile(_ img: RGBImage, id: Int) -> String? {
        guard let path = writeTempFile(img.pixels) else { return nil }
        let keys = "a=t,f=24,s=\(img.width),v=\(img.height),i=\(id),t=t,q=2"
        return "\u{1B}_G\(keys);" + Data(path.utf8).base64EncodedString() + "\u{1B}\\"
    }

    /// Writes `bytes` to a new file in the temporary folder whose name has `tty-graphics-protocol` in it, as
    /// kitty requires of files it may delete; the path, or nil.
    static func writeTempFile(_ bytes: [UInt8]) -> String? {
        let folder = FileManager.default.temporaryDirectory.path
        let path = (folder as NSString).appendingPathComponent("mavin-tty-graphics-protocol-\(UUID().uuidString).rgb")
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return nil }
        return path
    }

    /// Shows image `id` at the cursor, scaled to `cols`×`rows` cells; the cursor does not move (`C=1`).
    public static func place(id: Int, cols: Int, rows: Int) -> String {
        "\u{1B}_Ga=p,i=\(id),c=\(cols),r=\(rows),C=1,q=2\u{1B}\\"
    }

    /// Removes every placement on screen; the images stay stored for the next place.
    public static let deletePlacements = "\u{1B}_Ga=d,d=a,q=2\u{1B}\\"

    /// Frees every image this program stored.
    public static let freeAll = "\u{1B}_Ga=d,d=A,q=2\u{1B}\\"

    /// Frees image `id` (its data and placements).
    public static func free(id: Int) -> String { "\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\" }
}

/// iTerm2 inline images (also WezTerm, Konsole, mintty): `OSC 1337 ; File=inline=1;size=N;width=C;
/// height=R;preserveAspectRatio=0 : base64(PNG) BEL`, the PNG written by libpng.
public enum ITerm2Images {
    public static func inline(_ img: RGBImage, cols: Int, rows: Int) -> String {
        let png = PNGMemory.encode(img)
        let args = "inline=1;size=\(png.count);width=\(cols);height=\(rows);preserveAspectRatio=0"
        return "\u{1B}]1337;File=\(args):" + Data(png).base64EncodedString() + "\u{07}"
    }
}

/// A PNG in memory for a picture on its way to the terminal: 8-bit RGB, each row Sub-filtered (the difference to
/// the pixel on its left: flat and smooth areas become runs of small values) and deflated by zlib at level 1, its
/// fastest that still compresses. Chunks per the PNG specification: signature, IHDR, one IDAT, IEND, each with
/// its CRC-32.
public enum PNGMemory {
    public static func encode(_ img: RGBImage) -> [UInt8] {
        let w = img.width
        let h = img.height
        let stride = w * 3
        var filtered = [UInt8](repeating: 0, count: h * (stride + 1))
        img.pixels.withUnsafeBufferPointer { src in
            filtered.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * (stride + 1)
                    dst[row] = 1  // Sub
                    for x in 0..<stride {
                        let left = x >= 3 ? src[y * stride + x - 3] : 0
                        dst[row + 1 + x] = src[y * stride + x] &- left
                    }
                }
            }
        }
        guard let idat = deflateRunLengths(filtered) else { return [] }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func bigEndian(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
        func chunk(_ type: String, _ data: [UInt8]) {
            let body = Array(type.utf8) + data
            png += bigEndian(data.count) + body
            let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            png += bigEndian(Int(crc))
        }
        // Width, height, bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace.
        chunk("IHDR", bigEndian(w) + bigEndian(h) + [8, 2, 0, 0, 0])
        chunk("IDAT", idat)
        chunk("IEND", [])
        return png
    }

    /// A zlib stream of `data` with deflate's run-length strategy (matches at distance one only): on Sub-filtered
    /// rows nearly as small as a full search and several times faster.
    static func deflateRunLengths(_ data: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard
            deflateInit2_(&stream, 1, Z_DEFLATED, 15, 8, Z_RLE, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))))
        let status = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }
}

/// tmux's DCS passthrough: `ESC P tmux; <escape with every ESC doubled> ESC \` reaches the outer
/// terminal when `allow-passthrough` is on.
public enum TmuxPassthrough {
    public static func wrap(_ escape: String) -> String {
        var out: [UInt8] = Array("\u{1B}Ptmux;".utf8)
        for b in escape.utf8 {
            if b == 0x1B { out.append(0x1B) }
            out.append(b)
        }
        out += [0x1B, UInt8(ascii: "\\")]
        return String(decoding: out, as: UTF8.self)
    }
}
