import CNcurses
import CShim
import Foundation
import Media

/// The terminal workstation. This first version lists the clips of a folder
/// with their facts and quits with `q`; the junction, job and compare panes
/// arrive with the model engine.
public struct StudioApp {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    /// One clip of the library: its facts, or why it could not be read.
    public struct Clip {
        public var name: String
        public var info: VideoInfo?
        public var error: String?
    }

    public static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "gif"]

    /// The clips of a folder, sorted by name; unreadable files are listed with their error.
    public static func library(folder: String) -> [Clip] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted().map { name in
            let path = (folder as NSString).appendingPathComponent(name)
            do { return Clip(name: name, info: try VideoReader(path: path).info, error: nil) } catch {
                return Clip(name: name, info: nil, error: "\(error)")
            }
        }
    }

    /// One library row, fitted to `width` columns.
    public static func row(_ clip: Clip, width: Int) -> String {
        let text: String
        if let i = clip.info {
            text = "\(clip.name)  \(i.frames) fr  \(String(format: "%.2f", i.fps)) fps  \(i.width)×\(i.height)  \(String(format: "%.1f", i.duration)) s"
        } else {
            text = "\(clip.name)  ✗ \(clip.error ?? "unreadable")"
        }
        return String(text.prefix(max(0, width)))
    }

    public func run() throws {
        let clips = Self.library(folder: folder)
        setlocale(LC_ALL, "")
        initscr()
        defer { endwin() }
        cbreak()
        noecho()
        mavin_keypad_on()
        curs_set(0)
        var selected = 0
        while true {
            erase()
            let rows = Int(mavin_lines()), cols = Int(mavin_cols())
            if rows < 8 || cols < 30 {
                mvaddstr(0, 0, String("Terminal too small (\(cols)×\(rows)); need 30×8".prefix(cols)))
            } else {
                attron(mavin_a_bold())
                mvaddstr(0, 0, String(" Mavin Studio — \(folder)".prefix(cols)))
                attroff(mavin_a_bold())
                mvaddstr(1, 0, String(" Library: \(clips.count) clips".prefix(cols)))
                for (i, clip) in clips.prefix(rows - 4).enumerated() {
                    if i == selected { attron(mavin_a_reverse()) }
                    mvaddstr(Int32(2 + i), 1, Self.row(clip, width: cols - 2))
                    if i == selected { attroff(mavin_a_reverse()) }
                }
                mvaddstr(Int32(rows - 1), 0, String(" q quit  ↑/↓ or j/k select".prefix(cols)))
            }
            refresh()
            let key = getch()
            switch key {
            case Int32(UInt8(ascii: "q")): return
            case KEY_DOWN, Int32(UInt8(ascii: "j")): selected = min(selected + 1, max(0, clips.count - 1))
            case KEY_UP, Int32(UInt8(ascii: "k")): selected = max(selected - 1, 0)
            default: break
            }
        }
    }
}
