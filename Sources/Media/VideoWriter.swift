import CFFmpeg
import CMediaShim
import Core
import Foundation

/// Writes frames as H.264 MP4, animated GIF or a folder of PNG frames, chosen by
/// the target's extension (no extension: a PNG folder). The target appears only
/// when `finish()` succeeds; an existing target is kept unless `overwrite`.
public final class VideoWriter {
    public enum Kind: String, Sendable { case mp4, gif, png }

    public let url: URL
    public let kind: Kind
    public let width: Int
    public let height: Int
    public let fps: Double
    public private(set) var framesWritten = 0
    private var backend: FrameSink?

    public static func kind(for url: URL) -> Kind? {
        switch url.pathExtension.lowercased() {
        case "mp4", "m4v", "mov": return .mp4
        case "gif": return .gif
        case "": return .png
        default: return nil
        }
    }

    public init(url: URL, width: Int, height: Int, fps: Double, overwrite: Bool = false) throws {
        guard let kind = Self.kind(for: url) else { throw MediaError.unsupportedOutput(url.path) }
        guard width > 0, height > 0, fps > 0 else {
            throw MediaError.encodeFailed(url.path, reason: "size \(width)×\(height) at \(fps) fps is not valid")
        }
        self.url = url
        self.kind = kind
        self.width = width
        self.height = height
        self.fps = fps
        switch kind {
        case .mp4: backend = try MP4Sink(target: url, width: width, height: height, fps: fps, overwrite: overwrite)
        case .gif: backend = try GIFSink(target: url, width: width, height: height, fps: fps, overwrite: overwrite)
        case .png: backend = try PNGFolderSink(target: url, overwrite: overwrite)
        }
    }

    /// What the output's size differs by, said to the user: H.264 in 4:2:0 needs even sizes, so an MP4 of odd-sized
    /// frames repeats their last column or row (nil when the frames are written at their own size).
    public var notice: String? {
        guard kind == .mp4, width % 2 == 1 || height % 2 == 1 else { return nil }
        return "the MP4 is \((width + 1) & ~1)×\((height + 1) & ~1): H.264 in 4:2:0 needs even sizes, so the "
            + "\(width)×\(height) frames' last column or row is repeated (a name without an extension writes PNG "
            + "frames at their own size)"
    }

    deinit { backend?.cancel() }

    public func append(_ image: RGBImage) throws {
        guard let backend else { throw MediaError.encodeFailed(url.path, reason: "writer already finished") }
        guard image.width == width, image.height == height else {
            throw MediaError.sizeMismatch(
                url.path, expected: "\(width)×\(height)", got: "\(image.width)×\(image.height)")
        }
        do { try backend.append(image) } catch {
            cancel()
            throw error
        }
        framesWritten += 1
    }

    /// Completes the file and moves it into place.
    public func finish() throws {
        guard let backend else { return }
        self.backend = nil
        if framesWritten == 0 {
            backend.cancel()
            throw MediaError.encodeFailed(url.path, reason: "no frames were written")
        }
        try backend.finish()
    }

    /// Abandons the output: nothing appears at the target.
    public func cancel() {
        backend?.cancel()
        backend = nil
    }

    /// Convenience: writes all frames at once.
    public static func write(_ frames: [RGBImage], to url: URL, fps: Double, overwrite: Bool = false) throws {
        guard let first = frames.first else { throw MediaError.encodeFailed(url.path, reason: "no frames to write") }
        let writer = try VideoWriter(url: url, width: first.width, height: first.height, fps: fps, overwrite: overwrite)
        for f in frames { try writer.append(f) }
        try writer.finish()
    }
}

protocol FrameSink: AnyObject {
    func append(_ image: RGBImage) throws
    func finish() throws
    func cancel()
}

/// H.264 (libx264 when present) in MP4, yuv420p, constant frame rate.
final class MP4Sink: FrameSink {
    private let output: AtomicOutput
    private var oc: UnsafeMutablePointer<AVFormatContext>?
    private var ctx: UnsafeMutablePointer<AVCodecContext>?
    private var st: UnsafeMutablePointer<AVStream>?
    private var yuv: UnsafeMutablePointer<AVFrame>?
    private var pkt: UnsafeMutablePointer<AVPacket>?
    private let scaler = Scaler()
    private let rgbFrame = RGBFrame()
    private let width: Int, height: Int
    private let codedW: Int, codedH: Int
    private var nextPTS: Int64 = 0
    private var closed = false

    init(target: URL, width: Int, height: Int, fps: Double, overwrite: Bool) throws {
        _ = FF.quiet
        output = try AtomicOutput(target: target, overwrite: overwrite)
        self.width = width
        self.height = height
        // yuv420p needs even sizes: odd edges are padded by repeating the last row/column.
        codedW = (width + 1) & ~1
        codedH = (height + 1) & ~1
        let path = target.path
        var ocp: UnsafeMutablePointer<AVFormatContext>?
        guard avformat_alloc_output_context2(&ocp, nil, "mp4", output.temporary.path) >= 0, let oc = ocp else {
            throw MediaError.encodeFailed(path, reason: "FFmpeg has no MP4 muxer")
        }
        self.oc = oc
        guard
            let codec = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_H264)
                ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4)
        else {
            cancel()
            throw MediaError.encodeFailed(path, reason: "no H.264 encoder in this FFmpeg")
        }
        guard let st = avformat_new_stream(oc, nil), let ctx = avcodec_alloc_context3(codec) else {
            cancel()
            throw MediaError.encodeFailed(path, reason: "out of memory")
        }
        self.st = st
        self.ctx = ctx
        let rate = av_d2q(fps, 100_000)
        ctx.pointee.width = Int32(codedW)
        ctx.pointee.height = Int32(codedH)
        ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        ctx.pointee.time_base = AVRational(num: rate.den, den: rate.num)
        ctx.pointee.framerate = rate
        ctx.pointee.gop_size = 12
        ctx.pointee.thread_count = 0
        if (oc.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 {
            ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        av_opt_set(ctx.pointee.priv_data, "crf", "17", 0)
        av_opt_set(ctx.pointee.priv_data, "preset", "veryfast", 0)
        var r = avcodec_open2(ctx, codec, nil)
        guard r >= 0 else {
            cancel()
            throw MediaError.encodeFailed(path, reason: "encoder: \(FF.message(r))")
        }
        avcodec_parameters_from_context(st.pointee.codecpar, ctx)
        st.pointee.time_base = ctx.pointee.time_base
        st.pointee.avg_frame_rate = rate
        r = avio_open(&oc.pointee.pb, output.temporary.path, AVIO_FLAG_WRITE)
        guard r >= 0 else {
            cancel()
            throw MediaError.encodeFailed(path, reason: Self.reason(r))
        }
        r = avformat_write_header(oc, nil)
        guard r >= 0 else {
            cancel()
            throw MediaError.encodeFailed(path, reason: Self.reason(r))
        }
        yuv = av_frame_alloc()
        yuv!.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        yuv!.pointee.width = Int32(codedW)
        yuv!.pointee.height = Int32(codedH)
        av_frame_get_buffer(yuv, 0)
        pkt = av_packet_alloc()
    }

    func append(_ image: RGBImage) throws {
        guard let yuv, let ctx else { throw MediaError.encodeFailed(output.target.path, reason: "writer closed") }
        av_frame_make_writable(yuv)
        // The RGB source goes through an FFmpeg-aligned picture too: swscale reads whole vectors per row.
        guard let rgb = rgbFrame.buffer(width: codedW, height: codedH) else {
            throw MediaError.encodeFailed(output.target.path, reason: "out of memory for a \(codedW)×\(codedH) picture")
        }
        let (src, srcStride) = FF.mutablePlanes(rgb)
        guard let base = src[0] else { throw MediaError.encodeFailed(output.target.path, reason: "no RGB picture") }
        let rowBytes = width * 3
        image.pixels.withUnsafeBufferPointer { pixels in
            // Odd edges are padded by repeating the last row and column (yuv420p needs even sizes).
            for y in 0..<codedH {
                let row = base + y * Int(srcStride[0])
                row.update(from: pixels.baseAddress! + min(y, height - 1) * rowBytes, count: rowBytes)
                if codedW != width { (row + rowBytes).update(from: row + rowBytes - 3, count: 3) }
            }
        }
        guard
            let sws = scaler.context(
                srcW: Int32(codedW), srcH: Int32(codedH), srcFormat: AV_PIX_FMT_RGB24.rawValue,
                dstW: Int32(codedW), dstH: Int32(codedH), dstFormat: AV_PIX_FMT_YUV420P.rawValue)
        else {
            throw MediaError.encodeFailed(output.target.path, reason: "no RGB→YUV converter")
        }
        var (dst, dstStride) = FF.mutablePlanes(yuv)
        let planes = src.map { UnsafePointer($0) }
        _ = sws_scale(sws, planes, srcStride, 0, Int32(codedH), &dst, &dstStride)
        yuv.pointee.pts = nextPTS
        nextPTS += 1
        try send(yuv, ctx: ctx)
    }

    private func send(_ frame: UnsafeMutablePointer<AVFrame>?, ctx: UnsafeMutablePointer<AVCodecContext>) throws {
        var r = avcodec_send_frame(ctx, frame)
        guard r >= 0 else { throw MediaError.encodeFailed(output.target.path, reason: FF.message(r)) }
        while true {
            r = avcodec_receive_packet(ctx, pkt)
            if r == FF.again || r == FF.eof { return }
            guard r >= 0 else { throw MediaError.encodeFailed(output.target.path, reason: FF.message(r)) }
            av_packet_rescale_ts(pkt, ctx.pointee.time_base, st!.pointee.time_base)
            pkt!.pointee.stream_index = st!.pointee.index
            r = av_interleaved_write_frame(oc, pkt)
            guard r >= 0 else { throw MediaError.encodeFailed(output.target.path, reason: Self.reason(r)) }
        }
    }

    func finish() throws {
        guard let ctx else { throw MediaError.encodeFailed(output.target.path, reason: "writer closed") }
        do {
            try send(nil, ctx: ctx)
            var r = av_write_trailer(oc)
            guard r >= 0 else { throw MediaError.encodeFailed(output.target.path, reason: Self.reason(r)) }
            // The last buffered bytes reach the disk here: a full disk may be noticed only now.
            if let oc, oc.pointee.pb != nil {
                avio_flush(oc.pointee.pb)
                r = oc.pointee.pb.pointee.error
                if r >= 0 { r = avio_closep(&oc.pointee.pb) }
                guard r >= 0 else { throw MediaError.encodeFailed(output.target.path, reason: Self.reason(r)) }
            }
        } catch {
            cancel()
            throw error
        }
        release()
        try output.commit()
    }

    /// An FFmpeg error in words; a file system's errno (a full disk, say) with what to do.
    static func reason(_ code: Int32) -> String {
        code < 0 && -code < 4096 ? FileProblem.reason(errno: -code) : FF.message(code)
    }

    private func release() {
        guard !closed else { return }
        closed = true
        if let oc, oc.pointee.pb != nil { avio_closep(&oc.pointee.pb) }
        avformat_free_context(oc)
        oc = nil
        avcodec_free_context(&ctx)
        av_frame_free(&yuv)
        av_packet_free(&pkt)
    }

    func cancel() {
        release()
        output.discard()
    }
}

/// A folder of `frame_00000.png`, … assembled under a temporary name and renamed into place.
final class PNGFolderSink: FrameSink {
    private let target: URL
    private let temporary: URL
    private let overwrite: Bool
    private var index = 0

    init(target: URL, overwrite: Bool) throws {
        let fm = FileManager.default
        try OutputTarget.check(target.path, kind: .frameFolder, overwrite: overwrite)
        self.target = target
        self.overwrite = overwrite
        temporary = target.deletingLastPathComponent().appendingPathComponent(
            AtomicOutput.partialName(of: target.lastPathComponent, tag: "\(getpid())"))
        try? fm.removeItem(at: temporary)
        PartialFiles.register(temporary.path)
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: false) } catch {
            PartialFiles.done(temporary.path)
            throw MediaError.encodeFailed(target.path, reason: FileProblem.reason(error))
        }
    }

    func append(_ image: RGBImage) throws {
        try PNG.write(
            PNGImage(rgb: image), to: temporary.appendingPathComponent(FrameExport.fileName(index)),
            overwrite: true)
        index += 1
    }

    func finish() throws {
        var info = stat()
        if lstat(target.path, &info) == 0 {
            do {
                try OutputTarget.check(target.path, kind: .frameFolder, overwrite: overwrite)
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    try OutputTarget.removeFrameFolder(target.path)
                } else if unlink(target.path) != 0 {
                    throw MediaError.encodeFailed(target.path, reason: String(cString: strerror(errno)))
                }
            } catch {
                cancel()
                throw error
            }
        }
        if rename(temporary.path, target.path) != 0 {
            let reason = String(cString: strerror(errno))
            cancel()
            throw MediaError.encodeFailed(target.path, reason: reason)
        }
        PartialFiles.done(temporary.path)
    }

    func cancel() {
        try? FileManager.default.removeItem(at: temporary)
        PartialFiles.done(temporary.path)
    }
}
