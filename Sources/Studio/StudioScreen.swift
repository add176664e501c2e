import CNcurses
import CCursesShim
import Core
import Engine
import Foundation
import Media
import Metrics

/// Drawing and the key loop of the Studio.
extension StudioApp {
    static let minimumSize = (cols: 60, rows: 18)

    enum ColourPair: Int16 {
        case header = 1
        case selected, title, focus, accent, error, progress, dim
    }

    func setUpColours() {
        guard has_colors() else { return }
        start_color()
        use_default_colors()
        let c = theme.colours
        func pair(_ p: ColourPair, _ fg: String, _ bg: String? = nil) {
            init_pair(p.rawValue, c[fg] ?? -1, bg.flatMap { c[$0] } ?? -1)
        }
        pair(.header, "header_fg", "header_bg")
        pair(.selected, "selected_fg", "selected_bg")
        pair(.title, "title")
        pair(.focus, "focus")
        pair(.accent, "accent")
        pair(.error, "error")
        pair(.progress, "progress")
        pair(.dim, "dim")
    }

    func put(
        _ y: Int, _ x: Int, _ text: String, width: Int, _ pair: ColourPair? = nil, bold: Bool = false,
        reverse: Bool = false
    ) {
        guard width > 0, y >= 0, y < Int(mavin_lines()) else { return }
        var t = String(Glyphs.text(text, unicode: caps.unicode).prefix(width))
        if t.count < width && reverse { t += String(repeating: " ", count: width - t.count) }
        var attr: Int32 = 0
        if let pair { attr |= mavin_color_pair(Int32(pair.rawValue)) }
        if bold { attr |= mavin_a_bold() }
        if reverse { attr |= mavin_a_reverse() }
        attron(attr)
        mvaddstr(Int32(y), Int32(x), t)
        attroff(attr)
    }

    /// Cells for an image `rows` high at its true aspect ratio, from the measured cell size.
    func columns(for img: RGBImage?, rows: Int) -> Int {
        Self.columns(width: img?.width ?? 1, height: img?.height ?? 1, rows: rows, cellAspect: caps.cellAspect)
    }

    /// Columns that show a width×height picture `rows` cells high without stretching it.
    static func columns(width: Int, height: Int, rows: Int, cellAspect: Double) -> Int {
        max(2, Int((Double(rows) * cellAspect * Double(width) / Double(max(1, height))).rounded()))
    }

    /// Rows that fit a width×height picture into `cols` columns without stretching it.
    func rows(for img: RGBImage?, cols: Int) -> Int {
        let w = Double(img?.width ?? 1)
        let h = Double(img?.height ?? 1)
        return Int(Double(cols) * h / (w * caps.cellAspect))
    }

    /// Queues an image for a cell rectangle (drawn after ncurses' refresh), or draws ASCII shades now.
    func picture(_ img: RGBImage?, row: Int, col: Int, cols: Int, rows: Int) {
        guard let img, cols > 1, rows > 0 else { return }
        if caps.pictures == .ascii {
            for (i, line) in Pictures.ascii(img, cols: cols, rows: rows).enumerated() {
                mvaddstr(Int32(row + i), Int32(col), line)
            }
        } else {
            pendingImages.append((row, col, cols, rows, img))
        }
    }

    func draw() {
        erase()
        pendingImages.removeAll()
        let H = Int(mavin_lines())
        let W = Int(mavin_cols())
        if W < Self.minimumSize.cols || H < Self.minimumSize.rows {
            put(0, 0, "Terminal too small (\(W)×\(H)).", width: W, .error, bold: true)
            put(
                1, 0,
                "Mavin Studio needs at least \(Self.minimumSize.cols)×\(Self.minimumSize.rows); enlarge it or press q.",
                width: W)
            return
        }
        put(
            0, 0, " Mavin Studio — \(folder) — \(modelNote) — pictures: \(caps.pictures.rawValue)", width: W, .header,
            bold: true, reverse: false)
        let leftW = max(28, W / 3)
        let rightX = leftW + 1
        let rightW = W - rightX
        let libH = max(5, (H - 6) / 2)
        drawLibrary(y: 1, x: 0, w: leftW, h: libH)
        drawSequence(y: 1 + libH, x: 0, w: leftW, h: H - 5 - libH)
        let inspH = min(14, max(9, (H - 6) / 2))
        drawJunction(y: 1, x: rightX, w: rightW, h: inspH)
        drawPreview(y: 1 + inspH, x: rightX, w: rightW, h: H - 5 - inspH)
        drawJob(y: H - 4, w: W)
        let context: KeyContext =
            focus == .library ? .library : focus == .sequence ? .sequence : focus == .junction ? .junction : .global
        if let commandLine {
            put(H - 1, 0, ":" + commandLine, width: W, .focus, bold: true)
            move(Int32(H - 1), Int32(min(W - 1, commandLine.count + 1)))
        } else if let confirm {
            put(H - 1, 0, confirm.prompt, width: W, .error, bold: true, reverse: true)
        } else {
            put(H - 2, 0, message, width: W, .accent)
            put(H - 1, 0, " " + KeyMap.hints(for: context, stepping: stepping), width: W, .dim, reverse: true)
        }
        if showHelp { drawHelp(W: W, H: H) }
    }

    func drawLibrary(y: Int, x: Int, w: Int, h: Int) {
        put(y, x, " Library (\(clips.count))", width: w, focus == .library ? .focus : .title, bold: true)
        let first = max(0, librarySel - (h - 3))
        for (i, clip) in clips.enumerated().dropFirst(first).prefix(h - 2) {
            let row = y + 1 + i - first
            let text: String
            if let info = clip.info {
                text =
                    " \(clip.name)  \(info.frames)f \(String(format: "%.0f", info.fps))fps "
                    + "\(info.width)×\(info.height) \(String(format: "%.1f", info.duration))s"
            } else {
                text = " \(clip.name)  ✗ \(clip.error ?? "")"
            }
            put(
                row, x, text, width: w,
                i == librarySel && focus == .library ? .selected : (clip.info == nil ? .error : nil),
                reverse: i == librarySel && focus != .library)
        }
    }

    func drawSequence(y: Int, x: Int, w: Int, h: Int) {
        put(y, x, " Sequence (\(plan.clips.count) clips)", width: w, focus == .sequence ? .focus : .title, bold: true)
        var row = y + 1
        for (i, c) in plan.clips.enumerated() {
            if row >= y + h { break }
            put(row, x, " \(i + 1). \(c.path)", width: w, i == sequenceSel && focus == .sequence ? .selected : nil)
            row += 1
            if i < plan.junctions.count && row < y + h {
                let j = plan.junctions[i]
                let (s, e) = boundaries(i)
                let done = results[i] != nil ? " ✓" : ""
                put(row, x, "    ╰─ s=\(s) e=\(e) l=\(j.length) \(j.mode.rawValue)\(done)", width: w, .dim)
                row += 1
            }
        }
        if plan.clips.isEmpty { put(y + 1, x, " (empty: select a clip and press a)", width: w, .dim) }
    }

    func drawJunction(y: Int, x: Int, w: Int, h: Int) {
        guard let j = selectedJunction else {
            put(y, x, " Junction", width: w, .title, bold: true)
            put(y + 1, x, " Add two clips to the sequence to make a transition.", width: w, .dim)
            return
        }
        let a = plan.clips[j].path
        let b = plan.clips[j + 1].path
        let (s, e) = boundaries(j)
        put(
            y, x, " Junction \(j + 1): \(a) [s=\(s)] → \(b) [e=\(e)]", width: w, focus == .junction ? .focus : .title,
            bold: true)
        // Filmstrips: s−2 … s and e … e+2.
        // Thumbnails at the clip's true aspect on the measured cell (was a fixed two columns per row).
        var thumbH = max(2, min(5, h - 7, ((w - 4) / 6) / 2))
        while thumbH > 2 && 6 * (columns(for: frame(a, s), rows: thumbH) + 1) + 4 > w { thumbH -= 1 }
        let thumbW = columns(for: frame(a, s), rows: thumbH) + 1
        for k in 0..<3 {
            picture(frame(a, s - 2 + k), row: y + 1, col: x + 1 + k * thumbW, cols: thumbW - 1, rows: thumbH)
            picture(frame(b, e + k), row: y + 1, col: x + 3 + (3 + k) * thumbW, cols: thumbW - 1, rows: thumbH)
        }
        put(y + 1 + thumbH, x + 1, "s−2   s−1   s", width: 3 * thumbW, .dim)
        put(y + 1 + thumbH, x + 3 + 3 * thumbW, "e     e+1   e+2", width: 3 * thumbW, .dim)
        let jn = plan.junctions[j]
        let fields: [(Field, String)] = [
            (.s, "s \(s)"), (.e, "e \(e)"), (.length, "length \(jn.length)"), (.mode, "mode \(jn.mode.rawValue)"),
            (.f0, String(format: "f0 %.2f", jn.settings.f0)), (.lambda, String(format: "λ %.2f", jn.settings.lambda)),
            (.gfm, "GFM \(jn.settings.gfm ? "on" : "off")"), (.steps, "steps \(jn.settings.steps)"),
            (.strength, String(format: "strength %.2f", jn.settings.strength)), (.seed, "seed \(jn.settings.seed)")
        ]
        var col = x + 1
        var row = y + 2 + thumbH
        for (f, text) in fields {
            let cell = " \(text) "
            if col + cell.count >= x + w {
                col = x + 1
                row += 1
            }
            put(row, col, cell, width: cell.count, focus == .junction && field == f ? .selected : nil)
            col += cell.count + 1
        }
        if truth(j) != nil { put(row + 1, x + 1, "ground truth known: v compares", width: w - 2, .accent) }
    }

    func drawPreview(y: Int, x: Int, w: Int, h: Int) {
        let j = selectedJunction
        var title = " Preview"
        var left: RGBImage?
        var right: RGBImage?
        var caption = ""
        if stepping, let j, let r = results[j], !r.steps.isEmpty {
            let st = r.steps[min(stepIndex, r.steps.count - 1)]
            let f = min(frameIndex, st.predicted.count - 1)
            title =
                " Step-through: step \(stepIndex + 1)/\(r.steps.count) t=\(st.timestep) \(showNoisy ? "x_t" : "x̂0") "
                + "frame \(f + 1)/\(st.predicted.count)"
            left = showNoisy ? st.noisy[f] : st.predicted[f]
            caption = "[ ] steps  o x̂0/x_t  ( ) frames  Esc leave"
        } else if comparing, let j, let r = results[j], let t = truth(j) {
            let f = min(frameIndex, r.frames.count - 1)
            left = r.frames[f]
            right = t[f]
            let p = ImageQuality.psnr(r.frames[f], t[f])
            let s = ImageQuality.ssim(r.frames[f], t[f])
            title = " Compare: generated | truth — frame \(f + 1)/\(r.frames.count)"
            caption =
                String(format: "frame: PSNR %.2f dB SSIM %.3f", p, s)
                + (r.scores.map {
                    String(format: "   all: PSNR %.2f  MS-SSIM %.3f  CLIP-RS %.3f", $0.psnr, $0.ms_ssim, $0.clip_rs)
                } ?? "")
        } else if let job, !job.done, !job.preview.isEmpty {
            let f = frameIndex % job.preview.count
            left = job.preview[f]
            title = " Denoising: x̂0 at step \(job.step)/\(job.total), frame \(f + 1)/\(job.preview.count)"
        } else if focus == .library, librarySel < clips.count, let info = clips[librarySel].info {
            let f = frameIndex % max(1, info.frames)
            left = frame(clips[librarySel].name, f)
            title = " \(clips[librarySel].name) — frame \(f + 1)/\(info.frames)"
        } else if let j, let r = results[j] {
            let f = frameIndex % r.frames.count
            left = r.frames[f]
            title = " Generated transition \(j + 1) — frame \(f + 1)/\(r.frames.count)"
        } else if sequenceSel < plan.clips.count {
            let name = plan.clips[sequenceSel].path
            let n = max(1, frames(of: name))
            left = frame(name, frameIndex % n)
            title = " \(name) — frame \(frameIndex % n + 1)/\(n)"
        }
        put(y, x, title + (playing ? " ▶" : ""), width: w, focus == .preview ? .focus : .title, bold: true)
        let ph = max(2, h - 2)
        if let right {
            let rowsFit = min(ph, max(2, rows(for: left, cols: (w - 3) / 2)))
            let pw = columns(for: left, rows: rowsFit)
            picture(left, row: y + 1, col: x + 1, cols: pw, rows: rowsFit)
            picture(right, row: y + 1, col: x + 2 + pw, cols: pw, rows: rowsFit)
        } else {
            let rowsFit = min(ph, max(2, rows(for: left, cols: w - 2)))
            picture(left, row: y + 1, col: x + 1, cols: min(w - 2, columns(for: left, rows: rowsFit)), rows: rowsFit)
        }
        put(y + h - 1, x + 1, caption, width: w - 2, .dim)
    }

    func drawJob(y: Int, w: Int) {
        guard let job else {
            put(y, 0, " Job: idle", width: w, .dim)
            return
        }
        let barW = max(10, w / 3)
        let filled = job.total > 0 ? min(barW, barW * job.step / job.total) : 0
        let bar =
            String(repeating: theme.barFull, count: filled) + String(repeating: theme.barEmpty, count: barW - filled)
        var state = job.done ? (job.failed.map { $0 == "cancelled" ? "cancelled" : "failed" } ?? "done") : "running"
        if !job.done { state += " t=\(job.timestep) eta \(formatDuration(job.eta))" }
        put(y, 0, " \(job.kind): ", width: w, .title)
        put(
            y, min(w - 1, job.kind.count + 4), "\(bar) \(job.step)/\(job.total) \(state)",
            width: w - job.kind.count - 4, .progress)
        // CLIP-RS against the truth when there is one; always the smoothness against the clips' own pace.
        let series = job.clipRS.isEmpty ? job.paceRS : job.clipRS
        guard let last = series.last else { return }
        let spark = theme.spark
        let pace = job.paceRS.last.map { String(format: " (pace vs clips %.3f)", $0) } ?? ""
        let label =
            job.clipRS.isEmpty
            ? String(format: " smoothness vs the clips' pace (no truth) %.3f ", last)
            : String(format: " CLIP-RS %.3f", last) + pace + " "
        let line = series.suffix(max(0, w - label.count - 1)).map { v -> Character in
            spark[max(0, min(spark.count - 1, Int(v * Double(spark.count - 1))))]
        }
        put(y + 1, 0, label + String(line), width: w, .accent)
    }

    /// The help overlay: the title stays, the key list scrolls (↑↓ / j k, PgUp PgDn) when it does not fit.
    func drawHelp(W: Int, H: Int) {
        let entries = KeyMap.helpLines()
        let title = "Mavin Studio — keys (Esc or ? closes)"
        let bw = min(W - 4, max(title.count, entries.map(\.count).max() ?? 40) + 4)
        let bh = min(H - 2, entries.count + 3)
        let x0 = (W - bw) / 2
        let y0 = (H - bh) / 2
        let visible = bh - 3
        helpScroll = max(0, min(helpScroll, entries.count - visible))
        for r in 0..<bh { put(y0 + r, x0, "", width: bw, .header, reverse: true) }
        put(y0 + 1, x0 + 2, title, width: bw - 4, .header, bold: true)
        for (i, l) in entries.dropFirst(helpScroll).prefix(visible).enumerated() {
            put(y0 + 2 + i, x0 + 2, l, width: bw - 4, .header)
        }
        if entries.count > visible {
            let more = helpScroll + visible < entries.count ? "↓ more (j/↓)" : "end of list (k/↑ back)"
            let where_ = "\(helpScroll + 1)–\(helpScroll + visible) of \(entries.count)"
            put(y0 + bh - 1, x0 + 2, "\(where_)  \(more)", width: bw - 4, .header)
        }
        pendingImages.removeAll()
    }

    /// A key for an image's content (size and every pixel).
    static func contentKey(_ img: RGBImage) -> Int {
        var h = Hasher()
        h.combine(img.width)
        h.combine(img.height)
        img.pixels.withUnsafeBytes { h.combine(bytes: $0) }
        return h.finalize()
    }

    /// Pixel escapes go through tmux wrapped in its passthrough DCS when that is on.
    func outer(_ escape: String) -> String { caps.tmuxPassthrough ? TmuxPassthrough.wrap(escape) : escape }

    /// Writes the queued images as raw escape sequences after ncurses has drawn the text.
    /// kitty: each picture is transmitted once under an id, then placed by id; on any change
    /// the old placements are deleted first.
    func flushImages() {
        let keys = pendingImages.map { Self.contentKey($0.image) }
        let key = zip(pendingImages, keys).map { "\($0.0.row),\($0.0.col),\($0.0.cols),\($0.0.rows),\($0.1)" }
            .joined(separator: ";")
        guard key != lastImageKey else { return }
        lastImageKey = key
        var out = "\u{1B}[?2026h\u{1B}7"
        if caps.pictures == .kitty { out += outer(KittyGraphics.deletePlacements) }
        // Sixel and iTerm2 pictures are pixels on the screen: erase the cells of the last ones (ECH),
        // or a smaller picture leaves the old one showing around it.
        if caps.pictures == .sixel || caps.pictures == .iterm2 {
            for r in lastImageRects {
                for row in r.row..<(r.row + r.rows) { out += "\u{1B}[\(row + 1);\(r.col + 1)H\u{1B}[\(r.cols)X" }
            }
        }
        lastImageRects = pendingImages.map { (row: $0.row, col: $0.col, cols: $0.cols, rows: $0.rows) }
        for (p, contentKey) in zip(pendingImages, keys) {
            let cup = "\u{1B}[\(p.row + 1);\(p.col + 1)H"
            switch caps.pictures {
            case .kitty:
                let id: Int
                if let known = kittyIDs[contentKey] {
                    id = known
                } else {
                    id = nextKittyID
                    nextKittyID = nextKittyID % 4_000_000 + 1
                    kittyIDs[contentKey] = id
                    kittyOrder.append(contentKey)
                    for escape in KittyGraphics.transmit(p.image, id: id) { out += outer(escape) }
                    if kittyOrder.count > 96, let oldest = kittyOrder.first, let old = kittyIDs[oldest] {
                        kittyOrder.removeFirst()
                        kittyIDs[oldest] = nil
                        out += outer(KittyGraphics.free(id: old))
                    }
                }
                out += cup + outer(KittyGraphics.place(id: id, cols: p.cols, rows: p.rows))
            case .iterm2:
                out += cup + outer(ITerm2Images.inline(p.image, cols: p.cols, rows: p.rows))
            case .sixel:
                let img = Pictures.fit(
                    p.image, width: p.cols * max(1, caps.cellWidth), height: p.rows * max(1, caps.cellHeight))
                out += cup + outer(Sixel.encode(img))
            case .truecolor, .ansi256:
                out += Pictures.halfBlock(
                    p.image, cols: p.cols, rows: p.rows, at: (p.row + 1, p.col + 1),
                    mode: caps.pictures, unicode: caps.unicode)
            case .ascii: break
            }
        }
        out += "\u{1B}8\u{1B}[?2026l"
        writeOut(out)
    }

    func writeOut(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { break }
            done += n
        }
    }

    /// Runs until q. Keys are polled every 50 ms, so a running job never blocks them.
    public func run() throws {
        setlocale(LC_ALL, "")
        initscr()
        defer { endwin() }
        cbreak()
        noecho()
        mavin_keypad_on()
        set_escdelay(25)
        timeout(50)
        curs_set(0)
        setUpColours()
        defer { if caps.pictures == .kitty { writeOut(outer(KittyGraphics.freeAll)) } }
        var lastPlay = Date()
        while !quitRequested {
            drainEvents()
            if playing {
                let step = Self.playbackStep(elapsed: Date().timeIntervalSince(lastPlay), fps: previewFPS)
                if step.frames > 0 {
                    frameIndex += step.frames
                    lastPlay = lastPlay.addingTimeInterval(step.seconds)
                    lastImageKey = ""
                }
            } else {
                lastPlay = Date()
            }
            timeout(playing ? 10 : 50)
            draw()
            refresh()
            flushImages()
            let key = getch()
            if key == ERR { continue }
            if key == KEY_RESIZE {
                lastImageKey = ""
                clear()
                continue
            }
            handle(key)
        }
        if let problem = autosave() {
            endwin()
            FileHandle.standardError.write(Data("mavin studio: \(problem)\n".utf8))
        }
    }

    func handle(_ key: Int32) {
        if var line = commandLine {
            switch key {
            case 27: commandLine = nil
            case 10, KEY_ENTER:
                commandLine = nil
                execute(line)
            case KEY_BACKSPACE, 127, 8:
                if !line.isEmpty { line.removeLast() }
                commandLine = line
            default:
                if key >= 32 && key < 127 {
                    line.append(Character(UnicodeScalar(UInt8(key))))
                    commandLine = line
                }
            }
            return
        }
        if let c = confirm {
            confirm = nil
            if key == Int32(UInt8(ascii: "y")) { c.action() } else { message = "kept the existing file" }
            return
        }
        let context: KeyContext =
            focus == .library ? .library : focus == .sequence ? .sequence : focus == .junction ? .junction : .global
        if showHelp, let step = Self.helpScrollStep(key) {
            helpScroll = max(0, helpScroll + step)
            return
        }
        if let action = KeyMap.action(for: key, in: context, stepping: stepping) {
            if showHelp && action != .help && action != .escape && action != .quit {
                showHelp = false
                return
            }
            perform(action)
            lastImageKey = ""
        }
    }
}

extension StudioApp {
    /// Lines the help overlay scrolls for a key, nil for keys that do not scroll it.
    static func helpScrollStep(_ key: Int32) -> Int? {
        switch key {
        case KEY_DOWN, Int32(UInt8(ascii: "j")): return 1
        case KEY_UP, Int32(UInt8(ascii: "k")): return -1
        case KEY_NPAGE: return 10
        case KEY_PPAGE: return -10
        default: return nil
        }
    }
}

extension StudioApp {
    /// Frames due after `elapsed` seconds at `fps`, and the seconds they account for: playback keeps the
    /// clip's rate and skips frames when drawing cannot keep up (like timg), never runs slow.
    static func playbackStep(elapsed: Double, fps: Double) -> (frames: Int, seconds: Double) {
        let rate = fps.isFinite && fps > 0 ? fps : 25
        let frames = Int((elapsed * rate).rounded(.down))
        return (frames, Double(frames) / rate)
    }

    /// The frame rate of what the preview shows: the library clip, else the selected sequence clip.
    var previewFPS: Double {
        if focus == .library, librarySel < clips.count, let fps = clips[librarySel].info?.fps { return fps }
        if sequenceSel < plan.clips.count, let r = reader(plan.clips[sequenceSel].path) { return r.info.fps }
        return 25
    }
}
