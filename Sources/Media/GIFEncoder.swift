import Core
import Foundation

/// Animated GIF: a median-cut palette of 256 colours per frame, LZW-compressed,
/// looping forever. Our own encoder, so a GIF needs nothing but this file.
final class GIFSink: FrameSink {
    private let output: AtomicOutput
    private var data = Data()
    private let width: Int, height: Int
    private let delayCentiseconds: UInt16

    init(target: URL, width: Int, height: Int, fps: Double, overwrite: Bool) throws {
        guard width < 65536, height < 65536 else {
            throw MediaError.encodeFailed(target.path, reason: "GIF frames are at most 65535 pixels wide")
        }
        output = try AtomicOutput(target: target, overwrite: overwrite)
        self.width = width
        self.height = height
        delayCentiseconds = UInt16(max(2, min(65535, (100 / fps).rounded())))
        data.append(contentsOf: Array("GIF89a".utf8))
        le16(width)
        le16(height)
        data.append(contentsOf: [0x00, 0, 0])  // no global colour table
        // NETSCAPE2.0 application extension: loop forever.
        data.append(contentsOf: [0x21, 0xFF, 0x0B])
        data.append(contentsOf: Array("NETSCAPE2.0".utf8))
        data.append(contentsOf: [0x03, 0x01, 0x00, 0x00, 0x00])
    }

    private func le16(_ v: Int) {
        data.append(UInt8(v & 0xFF))
        data.append(UInt8((v >> 8) & 0xFF))
    }

    func append(_ image: RGBImage) throws {
        let (palette, indices) = GIFQuantizer.quantize(image)
        data.append(contentsOf: [0x21, 0xF9, 0x04, 0x04])  // graphic control: dispose "do not"
        le16(Int(delayCentiseconds))
        data.append(contentsOf: [0x00, 0x00])
        data.append(0x2C)
        le16(0)
        le16(0)
        le16(width)
        le16(height)
        data.append(0x80 | 0x07)  // local colour table of 2^(7+1) entries
        var table = palette
        table.append(contentsOf: [UInt8](repeating: 0, count: 768 - table.count))
        data.append(contentsOf: table)
        data.append(8)  // LZW minimum code size
        let compressed = LZW.encode(indices, minimumCodeSize: 8)
        var offset = 0
        while offset < compressed.count {
            let n = min(255, compressed.count - offset)
            data.append(UInt8(n))
            data.append(contentsOf: compressed[offset..<(offset + n)])
            offset += n
        }
        data.append(0)
    }

    func finish() throws {
        data.append(0x3B)
        do { try FileProblem.write(data, toNewFile: output.temporary.path) } catch {
            output.discard()
            throw MediaError.encodeFailed(output.target.path, reason: FileProblem.reason(error))
        }
        try output.commit()
    }

    func cancel() { output.discard() }
}

/// Median-cut colour quantisation with a 15-bit lookup for the nearest entry.
public enum GIFQuantizer {
    public static func quantize(_ image: RGBImage) -> (palette: [UInt8], indices: [UInt8]) {
        let n = image.width * image.height
        // Histogram on a 5-bit-per-channel grid.
        var counts = [Int32](repeating: 0, count: 32768)
        for i in 0..<n {
            let key =
                (Int(image.pixels[3 * i]) >> 3) << 10 | (Int(image.pixels[3 * i + 1]) >> 3) << 5
                | (Int(image.pixels[3 * i + 2]) >> 3)
            counts[key] += 1
        }
        var boxes: [[Int]] = [(0..<32768).filter { counts[$0] > 0 }]
        func channel(_ key: Int, _ c: Int) -> Int { (key >> (10 - 5 * c)) & 31 }
        // Each box's split score (widest channel range × √population), kept up to date
        // for the two boxes a split creates instead of rescanning every box.
        func score(_ box: [Int]) -> (score: Int, channel: Int) {
            guard box.count > 1 else { return (0, 0) }
            var lo = [31, 31, 31]
            var hi = [0, 0, 0]
            var pop = 0
            for k in box {
                pop += Int(counts[k])
                for c in 0..<3 {
                    let v = channel(k, c)
                    lo[c] = min(lo[c], v)
                    hi[c] = max(hi[c], v)
                }
            }
            let ranges = (0..<3).map { hi[$0] - lo[$0] }
            let c = ranges.firstIndex(of: ranges.max()!)!
            return (ranges[c] * Int(Double(pop).squareRoot() + 1), c)
        }
        var scores = [score(boxes[0])]
        while boxes.count < 256 {
            guard let best = scores.indices.max(by: { scores[$0].score < scores[$1].score }), scores[best].score > 0
            else { break }
            let bestChannel = scores[best].channel
            let sorted = boxes[best].sorted { channel($0, bestChannel) < channel($1, bestChannel) }
            let total = sorted.reduce(0) { $0 + Int(counts[$1]) }
            var acc = 0
            var cut = 1
            for (i, k) in sorted.enumerated() {
                acc += Int(counts[k])
                if acc * 2 >= total {
                    cut = max(1, min(sorted.count - 1, i + 1))
                    break
                }
            }
            boxes[best] = Array(sorted[..<cut])
            boxes.append(Array(sorted[cut...]))
            scores[best] = score(boxes[best])
            scores.append(score(boxes[boxes.count - 1]))
        }
        var palette: [UInt8] = []
        var lookup = [UInt8](repeating: 0, count: 32768)
        for (index, box) in boxes.enumerated() {
            var sum = (0, 0, 0)
            var pop = 0
            for k in box {
                let w = Int(counts[k])
                sum.0 += (channel(k, 0) * 8 + 4) * w
                sum.1 += (channel(k, 1) * 8 + 4) * w
                sum.2 += (channel(k, 2) * 8 + 4) * w
                pop += w
                lookup[k] = UInt8(index)
            }
            pop = max(pop, 1)
            palette.append(contentsOf: [UInt8(sum.0 / pop), UInt8(sum.1 / pop), UInt8(sum.2 / pop)])
        }
        if palette.isEmpty { palette = [0, 0, 0] }
        var indices = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let key =
                (Int(image.pixels[3 * i]) >> 3) << 10 | (Int(image.pixels[3 * i + 1]) >> 3) << 5
                | (Int(image.pixels[3 * i + 2]) >> 3)
            indices[i] = lookup[key]
        }
        return (palette, indices)
    }
}

/// GIF's variable-width LZW (codes up to 12 bits, LSB-first packing).
enum LZW {
    static func encode(_ input: [UInt8], minimumCodeSize: Int) -> [UInt8] {
        let clear = 1 << minimumCodeSize
        let end = clear + 1
        var out: [UInt8] = []
        var bitBuffer = 0
        var bitCount = 0
        var codeSize = minimumCodeSize + 1
        func emit(_ code: Int) {
            bitBuffer |= code << bitCount
            bitCount += codeSize
            while bitCount >= 8 {
                out.append(UInt8(bitBuffer & 0xFF))
                bitBuffer >>= 8
                bitCount -= 8
            }
        }
        // table[(prefix << 8) | byte] = code + 1 (0 = absent); `used` lets a clear be cheap.
        var table = [UInt16](repeating: 0, count: 4096 * 256)
        var used: [Int] = []
        var next = end + 1
        emit(clear)
        guard var prefix = input.first.map(Int.init) else {
            emit(end)
            if bitCount > 0 { out.append(UInt8(bitBuffer)) }
            return out
        }
        for byte in input.dropFirst() {
            let key = (prefix << 8) | Int(byte)
            let found = table[key]
            if found != 0 {
                prefix = Int(found) - 1
                continue
            }
            emit(prefix)
            if next < 4096 {
                table[key] = UInt16(next + 1)
                used.append(key)
                if next == (1 << codeSize) && codeSize < 12 { codeSize += 1 }
                next += 1
            } else {
                emit(clear)
                for k in used { table[k] = 0 }
                used.removeAll(keepingCapacity: true)
                next = end + 1
                codeSize = minimumCodeSize + 1
            }
            prefix = Int(byte)
        }
        emit(prefix)
        emit(end)
        if bitCount > 0 { out.append(UInt8(bitBuffer & 0xFF)) }
        return out
    }
}
