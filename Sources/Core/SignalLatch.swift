import Dispatch
import Foundation

/// Takes `numbers` from their default actions and runs `handler` with the signal on a dispatch thread (outside the
/// signal context, so it may do any work) each time one arrives. Keep the sources: cancelled or released, they stop.
public func catchSignals(
    _ numbers: [Int32], handler: @escaping @Sendable (Int32) -> Void
) -> [DispatchSourceSignal] {
    numbers.map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { handler(number) }
        source.resume()
        return source
    }
}

/// Catches the signals that would end the process (`PartialFiles.endingSignals`) for a program that polls for
/// them (the Studio's key loop): the first to arrive is kept, and the program ends in its own time, with
/// `PartialFiles.endBySignal`.
public final class SignalLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// `then` runs after each signal is kept (on a dispatch queue): a program that stops in its own time starts to.
    public init(_ numbers: [Int32] = PartialFiles.endingSignals, then: (@Sendable (Int32) -> Void)? = nil) {
        sources = catchSignals(numbers) { [weak self] number in
            self?.keep(number)
            then?(number)
        }
    }

    /// Keeps `number` as if it had arrived (a hang-up the program noticed itself: its terminal closed).
    public func keep(_ number: Int32) {
        lock.lock()
        if first == nil { first = number }
        lock.unlock()
    }

    /// The first signal caught, if any.
    public var caught: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
}
