import CFFmpeg
import CMediaShim
import Foundation

/// Facts about a video stream; `frames` is counted from the packet index, not the container's estimate.
public struct VideoInfo: Codable, Equatable, Sendable {
    public var path: String
    public var frames: Int
    public var fps: Double
    public var width: Int
    public var height: Int
    public var codec: String
    public var pixelFormat: String
    public var duration: Double
    /// Clockwise degrees the stored picture is turned for display (0, 90, 180, 270); `width` × `height` is the
    /// size shown, after that turn, as every player shows it.
    public var rotation: Int = 0
    /// What is wrong with the file (truncated, corrupt), in the user's words; nil for a sound file.
    public var damage: String?
    /// Whether the file also holds a sound stream (Mavin writes video only).
    public var hasAudio = false

    /// The note a job that uses a damaged file gives (nil for a sound one): what it uses of it.
    public var damageNotice: String? {
        damage.map { "'\(path)' is damaged (\($0)); only its \(frames) readable frames are used" }
    }
}

/// How a frame is fitted to a requested size.
public enum Fit: String, Sendable, CaseIterable {
    /// Scale both axes independently.
    case stretch
    /// Scale to cover the target, keeping the aspect ratio, then cut the centre.
    case crop
    /// Scale to fit inside the target, keeping the aspect ratio, centred on black (letter- or pillarbox).
    case pad

    /// What a clip of another size than the output's is told: 'NAME' is W×H; cropped to fill W'×H' (fit = crop).
    public func notice(clip name: String, from size: (Int, Int), to target: (Int, Int)) -> String {
        let how: String
        switch self {
        case .crop: how = "cropped to fill"
        case .pad: how = "padded to fit"
        case .stretch: how = "stretched to"
        }
        return "clip '\(name)' is \(size.0)×\(size.1); \(how) \(target.0)×\(target.1) (fit = \(rawValue))"
    }
}

/// Reads frames from anything FFmpeg demuxes, by index, without loading the file.
///
/// Opening builds a packet index (one timestamp per frame, a few bytes each), so
/// memory stays bounded for hours of video; `frame(at:)` seeks to the nearest
/// keyframe and decodes forward, and sequential reads never seek.
public final class VideoReader {
    public let info: VideoInfo
    /// Problems met while reading (damaged packets, a truncated tail), in the user's words.
    public private(set) var damage: [String] = []

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private let stream: Int32
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var decoded: UnsafeMutablePointer<AVFrame>?
    private let scaler = Scaler()
    private let rgbFrame = RGBFrame()
    /// Clockwise degrees (0, 90, 180 or 270) the stored picture is turned to be shown upright (its display matrix).
    public let rotation: Int
    /// Whether frames are numbered by decoding every picture (packed B-frames) instead of by packets.
    public private(set) var countedByDecoding = false
    /// Pictures converted to RGB so far: what a job really decoded, for tests that check it reads only what it needs.
    public private(set) var converted = 0
    /// Presentation timestamps of every frame, ascending: frame i has timestamp pts[i].
    private let pts: [Int64]
    /// The index the decoder will deliver next without seeking (nil after EOF or an error).
    private var nextIndex: Int? = 0
    private var draining = false

    /// Seconds per timestamp tick of the stream.
    private var timeBase = 0.0

    public var frameCount: Int { pts.count }

    /// When frame `index` is shown, in seconds after the first frame (from its timestamp).
    public func seconds(at index: Int) -> Double { Double(pts[index] - pts[0]) * timeBase }

    /// Whether frames are spaced unevenly (variable frame rate: phones, screen recordings), by more than
    /// a tenth of a frame.
    public var variableRate: Bool {
        guard pts.count > 2, info.fps > 0 else { return false }
        let nominal = 1 / info.fps
        for i in 1..<pts.count where abs(Double(pts[i] - pts[i - 1]) * timeBase - nominal) > nominal / 10 {
            return true
        }
        return false
    }
    private var path: String { info.path }

    public init(path: String) throws {
        _ = FF.quiet
        guard FileManager.default.fileExists(atPath: path) else { throw MediaError.fileNotFound(path) }
        var size = stat()
        if stat(path, &size) == 0 && (size.st_mode & S_IFMT) == S_IFREG && size.st_size == 0 {
            throw MediaError.notAVideo(path, reason: "the file is empty, 0 bytes")
        }
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        var status = avformat_open_input(&fmt, path, nil, nil)
        guard status >= 0, let fmt else { throw MediaError.notAVideo(path, reason: FF.message(status)) }
        var ok = false
        defer {
            if !ok {
                var f: UnsafeMutablePointer<AVFormatContext>? = fmt
                avformat_close_input(&f)
            }
        }

        status = avformat_find_stream_info(fmt, nil)
        guard status >= 0 else { throw MediaError.notAVideo(path, reason: FF.message(status)) }
        var decoder: UnsafePointer<AVCodec>?
        let index = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0)
        guard index >= 0 else { throw MediaError.notAVideo(path, reason: "no video stream") }
        guard let decoder else { throw MediaError.notAVideo(path, reason: "no decoder for its video codec") }
        let st = fmt.pointee.streams[Int(index)]!
        guard let ctx = avcodec_alloc_context3(decoder) else {
            throw MediaError.notAVideo(path, reason: "out of memory")
        }
        avcodec_parameters_to_context(ctx, st.pointee.codecpar)
        ctx.pointee.thread_count = 0  // let FFmpeg choose (frame threads)
        status = avcodec_open2(ctx, decoder, nil)
        guard status >= 0 else {
            var c: UnsafeMutablePointer<AVCodecContext>? = ctx
            avcodec_free_context(&c)
            throw MediaError.notAVideo(path, reason: "cannot open decoder: \(FF.message(status))")
        }
        self.codec = ctx
        self.stream = index
        self.format = fmt
        self.packet = av_packet_alloc()
        self.decoded = av_frame_alloc()

        // The packet index: one timestamp per displayed frame.
        var stamps: [Int64] = []
        var indexDamage: [String] = []
        let pkt = packet!
        var counter: Int64 = 0
        // MPEG-4 part 2 placeholders ("not coded" frames of a few bytes, as packed B-frames store them).
        var placeholders = 0
        var lastWasCorrupt = false
        while true {
            let r = av_read_frame(fmt, pkt)
            if r == FF.eof { break }
            if r < 0 {
                indexDamage.append("the file is truncated or corrupt after frame \(stamps.count) (\(FF.message(r)))")
                break
            }
            if pkt.pointee.stream_index == index && (pkt.pointee.flags & AV_PKT_FLAG_DISCARD) == 0 {
                var ts = pkt.pointee.pts != FF.noPTS ? pkt.pointee.pts : pkt.pointee.dts
                if ts == FF.noPTS { ts = counter }
                stamps.append(ts)
                counter += 1
                if pkt.pointee.size <= 8 { placeholders += 1 }
                lastWasCorrupt = (pkt.pointee.flags & AV_PKT_FLAG_CORRUPT) != 0
            }
            av_packet_unref(pkt)
        }
        // A last packet cut short by the end of the file holds no whole picture.
        if lastWasCorrupt { stamps.removeLast() }
        if let cut = Self.truncation(st, path: path, frames: stamps.count) { indexDamage.append(cut) }
        // Packed B-frames (XVID/DivX AVI) put two pictures in one packet and a placeholder in the next, so
        // packet timestamps are not picture timestamps: such files are numbered by their decoded pictures,
        // as ffmpeg numbers them. Every other file keeps the fast packet index.
        // MPEG-4 part 2 in AVI also stores B-frames without timestamps, so the first picture can carry the
        // second packet's: a picture that starts elsewhere than the packet index is the other sign.
        if st.pointee.codecpar.pointee.codec_id == AV_CODEC_ID_MPEG4, let frame = decoded, let first = stamps.first,
            placeholders > 0
                || Self.pictureStamps(
                    fmt, codec: ctx, stream: index, packet: pkt, frame: frame,
                    first: first, limit: 1
                ).first != first
        {
            let pictures = Self.pictureStamps(
                fmt, codec: ctx, stream: index, packet: pkt, frame: frame,
                first: first)
            if !pictures.isEmpty {
                stamps = pictures
                countedByDecoding = true
            }
        }
        stamps.sort()
        // Duplicate timestamps would make frames unaddressable; nudge them apart.
        for i in stride(from: 1, to: stamps.count, by: 1) where stamps[i] <= stamps[i - 1] {
            stamps[i] = stamps[i - 1] + 1
        }
        guard !stamps.isEmpty else {
            ok = true
            self.pts = []
            self.rotation = 0
            self.info = VideoInfo(
                path: path, frames: 0, fps: 0, width: 0, height: 0, codec: "", pixelFormat: "", duration: 0)
            throw MediaError.noFrames(path)
        }
        self.pts = stamps
        self.damage = indexDamage

        let base = st.pointee.time_base
        self.timeBase = base.den > 0 ? Double(base.num) / Double(base.den) : 0
        var rate = st.pointee.avg_frame_rate
        if rate.num <= 0 || rate.den <= 0 { rate = st.pointee.r_frame_rate }
        let fps = rate.den > 0 && rate.num > 0 ? Double(rate.num) / Double(rate.den) : 25
        let par = st.pointee.codecpar.pointee
        let pixName = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)).map { String(cString: $0) } ?? "unknown"
        let turn = Self.displayRotation(st)
        self.rotation = turn
        let turned = turn == 90 || turn == 270
        var info = VideoInfo(
            path: path, frames: stamps.count, fps: fps,
            width: Int(turned ? par.height : par.width), height: Int(turned ? par.width : par.height),
            codec: String(cString: avcodec_get_name(par.codec_id)),
            pixelFormat: pixName, duration: Double(stamps.count) / fps, rotation: turn,
            damage: indexDamage.isEmpty ? nil : indexDamage.joined(separator: "; "))
        info.hasAudio = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0) >= 0
        self.info = info
        ok = true
        try seek(to: 0)
    }

    /// The stream's display matrix as a clockwise turn rounded to a right angle, as `ffmpeg -autorotate` applies it.
    private static func displayRotation(_ st: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let raw = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 9 * 4 else { return 0 }
        let ccw = raw.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard ccw.isFinite else { return 0 }
        let clockwise = Int((-ccw / 90).rounded()) * 90
        return ((clockwise % 360) + 360) % 360
    }

    /// Whether the file ends before the data its index (an MP4 `moov` at the start, say) points to:
    /// the sentence for `damage`, or nil when every indexed frame is in the file.
    private static func truncation(_ st: UnsafeMutablePointer<AVStream>, path: String, frames: Int) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let size = Int64(info.st_size)
        let entries = Int(avformat_index_get_entries_count(st))
        var missing = 0
        for i in 0..<entries {
            guard let entry = avformat_index_get_entry(st, Int32(i)) else { continue }
            if entry.pointee.pos + Int64(entry.pointee.size) > size { missing += 1 }
        }
        guard missing > 0 else { return nil }
        let listed = entries
        return "the file is truncated: its index lists \(listed) frames but the data of \(missing) is missing, "
            + "so frames from \(frames) on cannot be read (frames 0…\(max(0, frames - 1)) can); "
            + "copy or download the file again"
    }

    /// The timestamps of every picture the decoder delivers, from the start (a full decode, done only for
    /// files whose packets and pictures are not one to one); a picture without one follows the previous.
    private static func pictureStamps(
        _ fmt: UnsafeMutablePointer<AVFormatContext>,
        codec: UnsafeMutablePointer<AVCodecContext>, stream: Int32,
        packet: UnsafeMutablePointer<AVPacket>, frame: UnsafeMutablePointer<AVFrame>,
        first: Int64, limit: Int = .max
    ) -> [Int64] {
        guard
            av_seek_frame(fmt, stream, first, AVSEEK_FLAG_BACKWARD) >= 0
                || avformat_seek_file(fmt, stream, Int64.min, first, first, AVSEEK_FLAG_BYTE) >= 0
        else { return [] }
        avcodec_flush_buffers(codec)
        var stamps: [Int64] = []
        func receive() {
            while avcodec_receive_frame(codec, frame) == 0 {
                var ts = frame.pointee.best_effort_timestamp
                if ts == FF.noPTS { ts = frame.pointee.pts }
                if ts == FF.noPTS { ts = (stamps.last ?? first - 1) + 1 }
                stamps.append(ts)
                av_frame_unref(frame)
            }
        }
        while stamps.count < limit, av_read_frame(fmt, packet) >= 0 {
            if packet.pointee.stream_index == stream {
                // A decoder that is full takes the packet once its pictures are out.
                if avcodec_send_packet(codec, packet) == FF.again {
                    receive()
                    avcodec_send_packet(codec, packet)
                }
            }
            av_packet_unref(packet)
            receive()
        }
        if stamps.count < limit {
            avcodec_send_packet(codec, nil)
            receive()
        }
        avcodec_flush_buffers(codec)
        return Array(stamps.prefix(limit))
    }

    deinit {
        av_packet_free(&packet)
        av_frame_free(&decoded)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    /// Frame `index`, converted to RGB at `size` (the stream's own size when nil).
    public func frame(at index: Int, size: (width: Int, height: Int)? = nil, fit: Fit = .stretch) throws -> RGBImage {
        guard index >= 0 && index < pts.count else {
            throw MediaError.frameOutOfRange(path, index: index, frames: pts.count)
        }
        // Decode forward when the target is close ahead; otherwise seek.
        if let next = nextIndex, index >= next, index - next < 48 {
            if let image = try decodeForward(to: index, size: size, fit: fit) { return image }
        }
        var backoff = 0
        while true {
            let start = max(0, index - backoff)
            try seek(to: start)
            if let image = try decodeForward(to: index, size: size, fit: fit) { return image }
            if start == 0 {
                throw MediaError.decodeFailed(path, frame: index, reason: damage.last ?? "no picture for this frame")
            }
            backoff = backoff == 0 ? 8 : backoff * 4
        }
    }

    /// Reads `count` frames from `start`, in order.
    public func frames(from start: Int, count: Int, size: (width: Int, height: Int)? = nil, fit: Fit = .stretch) throws
        -> [RGBImage]
    {
        try checkRange(from: start, count: count)
        return try (start..<(start + count)).map { try frame(at: $0, size: size, fit: fit) }
    }

    /// Refuses `count` frames from `start` unless all lie in the clip (without overflowing near Int.max).
    public func checkRange(from start: Int, count: Int) throws {
        guard start >= 0, count >= 0, start <= pts.count, count <= pts.count - start else {
            throw MediaError.rangeOutOfBounds(path, from: start, count: count, frames: pts.count)
        }
    }

    private func seek(to index: Int) throws {
        avcodec_flush_buffers(codec)
        draining = false
        let r = av_seek_frame(format, stream, pts[index], AVSEEK_FLAG_BACKWARD)
        if r < 0 {
            // Some demuxers cannot seek by timestamp: rewind by byte offset instead.
            let r2 = avformat_seek_file(format, stream, Int64.min, pts[0], pts[0], AVSEEK_FLAG_BYTE)
            if r2 < 0 { throw MediaError.decodeFailed(path, frame: index, reason: "cannot seek: \(FF.message(r))") }
        }
        nextIndex = nil  // unknown until the first frame arrives
    }

    /// The frame index of a timestamp (the nearest at or after it).
    private func indexOf(_ ts: Int64) -> Int {
        var lo = 0
        var hi = pts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if pts[mid] < ts { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Decodes until frame `target`; nil when the decoder passed it (the seek landed late).
    private func decodeForward(to target: Int, size: (width: Int, height: Int)?, fit: Fit) throws -> RGBImage? {
        let frame = decoded!
        let pkt = packet!
        var receivedAny = false
        while true {
            let r = avcodec_receive_frame(codec, frame)
            if r == 0 {
                var ts = frame.pointee.best_effort_timestamp
                if ts == FF.noPTS { ts = frame.pointee.pts }
                let idx = ts == FF.noPTS ? (nextIndex ?? 0) : indexOf(ts)
                defer { av_frame_unref(frame) }
                if !receivedAny && idx > target && nextIndex == nil {
                    nextIndex = idx + 1
                    return nil
                }
                receivedAny = true
                nextIndex = idx + 1
                if idx == target { return try convert(frame, size: size, fit: fit) }
                if idx > target { return nil }
                continue
            }
            if r == FF.eof {
                nextIndex = nil
                throw MediaError.decodeFailed(
                    path, frame: target, reason: damage.last ?? "the stream ended before this frame")
            }
            if r != FF.again {
                damage.append("decoder error near frame \(target): \(FF.message(r))")
                continue
            }
            // The decoder wants input.
            if draining {
                nextIndex = nil
                throw MediaError.decodeFailed(path, frame: target, reason: "decoder stalled")
            }
            let rr = av_read_frame(format, pkt)
            if rr < 0 {
                if rr != FF.eof {
                    damage.append("the file is truncated or corrupt near frame \(target) (\(FF.message(rr)))")
                }
                avcodec_send_packet(codec, nil)
                draining = true
                continue
            }
            defer { av_packet_unref(pkt) }
            if pkt.pointee.stream_index != stream { continue }
            let s = avcodec_send_packet(codec, pkt)
            if s < 0 && s != FF.again {
                damage.append("damaged data near frame \(target): \(FF.message(s))")
            }
        }
    }

    private func convert(_ frame: UnsafeMutablePointer<AVFrame>, size: (width: Int, height: Int)?, fit: Fit) throws
        -> RGBImage
    {
        let srcW = Int(frame.pointee.width)
        let srcH = Int(frame.pointee.height)
        let turned = rotation == 90 || rotation == 270
        // Sizes below are in the stored orientation; the picture is turned upright at the end.
        let displayed = size ?? (turned ? (srcH, srcW) : (srcW, srcH))
        let target = turned ? (width: displayed.height, height: displayed.width) : displayed
        guard target.width > 0, target.height > 0 else {
            throw MediaError.sizeMismatch(path, expected: "a positive size", got: "\(target.width)×\(target.height)")
        }
        // For .crop, scale to a size that covers the target, then cut its centre.
        var scaledW = target.width
        var scaledH = target.height
        if fit == .crop {
            let s = max(Double(target.width) / Double(srcW), Double(target.height) / Double(srcH))
            scaledW = max(target.width, Int((Double(srcW) * s).rounded()))
            scaledH = max(target.height, Int((Double(srcH) * s).rounded()))
        } else if fit == .pad {
            let s = min(Double(target.width) / Double(srcW), Double(target.height) / Double(srcH))
            scaledW = min(target.width, max(1, Int((Double(srcW) * s).rounded())))
            scaledH = min(target.height, max(1, Int((Double(srcH) * s).rounded())))
        }
        guard
            let ctx = scaler.context(
                srcW: Int32(srcW), srcH: Int32(srcH), srcFormat: frame.pointee.format,
                dstW: Int32(scaledW), dstH: Int32(scaledH), dstFormat: AV_PIX_FMT_RGB24.rawValue)
        else {
            throw MediaError.decodeFailed(path, frame: nextIndex ?? 0, reason: "unsupported pixel format")
        }
        // swscale's SIMD paths write whole vectors per row: the destination needs FFmpeg's padded
        // line size, never exactly width × 3 bytes (that overflowed on widths not a multiple of 16).
        guard let rgb = rgbFrame.buffer(width: scaledW, height: scaledH) else {
            let reason = "out of memory for a \(scaledW)×\(scaledH) picture"
            throw MediaError.decodeFailed(path, frame: nextIndex ?? 0, reason: reason)
        }
        let (src, strides) = FF.planes(frame)
        var (dst, dstStride) = FF.mutablePlanes(rgb)
        let rows = sws_scale(ctx, src, strides, 0, Int32(srcH), &dst, &dstStride)
        guard rows == Int32(scaledH), let base = dst[0] else {
            let reason = "colour conversion failed (\(FF.message(rows)))"
            throw MediaError.decodeFailed(path, frame: nextIndex ?? 0, reason: reason)
        }
        // Crop: the centre of the scaled picture; pad: the scaled picture at the centre of a black one.
        let x0 = max(0, (scaledW - target.width) / 2)
        let y0 = max(0, (scaledH - target.height) / 2)
        let outX = max(0, (target.width - scaledW) / 2)
        let outY = max(0, (target.height - scaledH) / 2)
        let copied = min(scaledW, target.width) * 3
        let rowBytes = target.width * 3
        var pixels = [UInt8](repeating: 0, count: target.height * rowBytes)
        pixels.withUnsafeMutableBufferPointer { out in
            guard let start = out.baseAddress else { return }
            for y in 0..<min(scaledH, target.height) {
                let from = base + (y + y0) * Int(dstStride[0]) + x0 * 3
                (start + (y + outY) * rowBytes + outX * 3).update(from: from, count: copied)
            }
        }
        let image = RGBImage(width: target.width, height: target.height, pixels: pixels)
        converted += 1
        return rotation == 0 ? image : image.rotated(clockwise: rotation)
    }
}

/// An RGB24 AVFrame reused between conversions, reallocated (with FFmpeg's alignment) when the size changes.
final class RGBFrame {
    private var frame: UnsafeMutablePointer<AVFrame>?

    deinit { av_frame_free(&frame) }

    /// The picture, or nil when FFmpeg cannot allocate it (out of memory).
    func buffer(width: Int, height: Int) -> UnsafeMutablePointer<AVFrame>? {
        if let f = frame, Int(f.pointee.width) == width, Int(f.pointee.height) == height { return f }
        av_frame_free(&frame)
        guard let f = av_frame_alloc() else { return nil }
        frame = f
        f.pointee.format = AV_PIX_FMT_RGB24.rawValue
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        guard av_frame_get_buffer(f, 0) >= 0 else {
            av_frame_free(&frame)
            return nil
        }
        return f
    }
}
