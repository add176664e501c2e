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

/// A PNG in memory through libpng's simplified writer (the Media writer goes to files).
public enum PNGMemory {
    public static func encode(_ img: RGBImage) -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(img.width)
        image.height = UInt32(img.height)
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR)
        // Speed over size: this PNG lives for one frame on the way to the terminal.
        image.flags = UInt32(PNG_IMAGE_FLAG_FAST)
        // Room for the worst case: stored deflate blocks, one filter byte per row, headers.
        var size = img.pixels.count + img.pixels.count / 16 + img.height + 4096
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes { dst in
            img.pixels.withUnsafeBytes { src in
                png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, Int32(img.width * 3), nil)
            }
        }
        png_image_free(&image)
        guard ok != 0 else { return [] }
        return Array(out.prefix(size))
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
