/// The live status page's files, served from the binary under `/ui` (SPEC §4): the HTML shell,
/// its stylesheet and its script. Nothing is loaded from anywhere else — no CDN, no fonts, no
/// images — so the page works on an air-gapped host.
///
/// The script draws everything from `GET /v1/ui/snapshot` (once a second; it keeps the sparkline
/// history itself) and `GET /v1/journal?since=N`, and sends nothing but those GETs. Every text
/// from the daemon (route names, header values of a match) goes into the DOM as text, never as
/// markup, and the Content-Security-Policy allows scripts and styles from the page's own origin
/// only, so a hostile name cannot run code in the operator's browser.
///
/// For tools and tests the page marks its parts with data attributes: `data-node` on each map
/// node, `data-route`/`data-from`/`data-to`/`data-cut` on each link (`data-cut` is `none`, `both`,
/// `upstream` or `downstream`), `data-fault` on each fault row, `data-series` and `data-points`
/// on each sparkline (with `data-last`, the latest rate), `data-event` on each journal row, and
/// `data-updates` on `<body>`: how many snapshots have been drawn.
enum StatusPage {
    /// A file of the page: its text and Content-Type.
    struct Asset {
        var text: String
        var contentType: String
    }

    /// The file at `path` under `/ui` (`[]` is the page itself).
    static func asset(path: [String]) -> Asset? {
        switch path {
        case []: return Asset(text: html, contentType: "text/html; charset=utf-8")
        case ["app.js"]: return Asset(text: script, contentType: "text/javascript; charset=utf-8")
        case ["app.css"]: return Asset(text: style, contentType: "text/css; charset=utf-8")
        default: return nil
        }
    }

    /// Sent with every file of the page. The policy allows only the page's own files and GETs back
    /// to its origin; `frame-ancestors 'none'` keeps it out of other sites' frames.
    static let headers: [(String, String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    static let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="faultline">
        <title>Faultline · live status</title>
        <link rel="stylesheet" href="/ui/app.css">
        <script src="/ui/app.js" defer></script>
        </head>
        <body data-updates="0">
        <main>
        <header>
        <div>
        <h1>Faultline <span class="live" id="live"><i></i><span id="live-text">connecting…</span></span></h1>
        <div class="sub" id="sub">live status</div>
        </div>
        <div class="stats" id="stats"></div>
        </header>
        <div class="top">
        <section class="panel map-panel">
        <div class="head"><h2>Nodes and links</h2><div class="legend" id="map-legend"></div></div>
        <svg id="map" viewBox="0 0 560 380" role="img" aria-label="nodes and the links routes make between them"></svg>
        <div class="partitions" id="partitions"></div>
        </section>
        <div class="side">
        <section class="panel">
        <div class="head"><h2>Active faults</h2><span class="count" id="fault-count"></span></div>
        <table class="faults" id="faults"><thead><tr><th>id</th><th>type</th><th>route</th><th>match</th><th>parameters</th>\
        <th>chance</th><th class="num">injections</th><th>time left</th></tr></thead><tbody></tbody></table>
        <p class="empty" id="faults-empty">No faults in force.</p>
        </section>
        <section class="panel">
        <div class="head"><h2>Schedule</h2><span class="pill" id="schedule-state">none</span></div>
        <div class="schedule" id="schedule"></div>
        </section>
        </div>
        </div>
        <section class="panel">
        <div class="head"><h2>Traffic</h2><div class="legend" id="traffic-legend"></div></div>
        <div class="traffic" id="traffic"></div>
        </section>
        <section class="panel">
        <div class="head"><h2>Journal</h2><label class="filter">event <select id="journal-filter">\
        <option value="">every event</option></select></label></div>
        <table class="journal" id="journal"><thead><tr><th class="num">seq</th><th>time (UTC)</th><th>event</th><th>details</th></tr></thead>\
        <tbody></tbody></table>
        <p class="empty" id="journal-empty">No events yet.</p>
        </section>
        <footer>Read-only: a view of the control API, redrawn every second from GET /v1/ui/snapshot and \
        GET /v1/journal. Rates are computed in this page from the daemon's counters; its history starts \
        when the page was opened.</footer>
        </main>
        </body>
        </html>

        """
}
