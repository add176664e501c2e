import CFFmpeg
import CMediaShim
import Foundation

/// Small helpers around FFmpeg's C conventions.
enum FF {
    static let eof = mavin_averror_eof()
    static let again = mavin_averror(EAGAIN)
    static let noPTS = mavin_av_nopts_value()

    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// FFmpeg prints to stderr by default; we report problems ourselves.
    static let quiet: Void = { av_log_set_level(AV_LOG_QUIET) }()

    /// The frame's plane pointers and strides as arrays sws_scale accepts.
    static func planes(_ frame: UnsafeMutablePointer<AVFrame>) -> ([UnsafePointer<UInt8>?], [Int32]) {
        var data = [UnsafePointer<UInt8>?](repeating: nil, count: 8)
        var strides = [Int32](repeating: 0, count: 8)
        withUnsafeBytes(of: frame.pointee.data) { raw in
            let p = raw.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)
            for i in 0..<8 { data[i] = UnsafePointer(p[i]) }
        }
        withUnsafeBytes(of: frame.pointee.linesize) { raw in
            let p = raw.bindMemory(to: Int32.self)
            for i in 0..<8 { strides[i] = p[i] }
        }
        return (data, strides)
    }

    static func mutablePlanes(_ frame: UnsafeMutablePointer<AVFrame>) -> ([UnsafeMutablePointer<UInt8>?], [Int32]) {
        var data = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: 8)
        var strides = [Int32](repeating: 0, count: 8)
        withUnsafeBytes(of: frame.pointee.data) { raw in
            let p = raw.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)
            for i in 0..<8 { data[i] = p[i] }
        }
        withUnsafeBytes(of: frame.pointee.linesize) { raw in
            let p = raw.bindMemory(to: Int32.self)
            for i in 0..<8 { strides[i] = p[i] }
        }
        return (data, strides)
    }
}

/// A cached swscale context for one (source → destination) geometry.
final class Scaler {
    private var context: OpaquePointer?
    private var key: (Int32, Int32, Int32, Int32, Int32, Int32) = (0, 0, -1, 0, 0, -1)

    deinit { sws_freeContext(context) }

    /// Pure colour conversion takes swscale's fast path; resizing uses bicubic.
    private func flags(same: Bool) -> Int32 { same ? SWS_POINT : SWS_BICUBIC }

    func context(srcW: Int32, srcH: Int32, srcFormat: Int32, dstW: Int32, dstH: Int32, dstFormat: Int32)
        -> OpaquePointer?
    {
        let k = (srcW, srcH, srcFormat, dstW, dstH, dstFormat)
        if context == nil || k != key {
            sws_freeContext(context)
            context = sws_getContext(
                srcW, srcH, AVPixelFormat(rawValue: srcFormat), dstW, dstH,
                AVPixelFormat(rawValue: dstFormat), flags(same: srcW == dstW && srcH == dstH),
                nil, nil, nil)
            key = k
        }
        return context
    }
}

/// The allocator's hold on memory a job freed.
public enum FrameMemory {
    /// Gives freed heap back to the system (glibc otherwise keeps what large frames used); whether any was.
    @discardableResult
    public static func releaseFreed() -> Bool { mavin_release_freed_memory() != 0 }
}
