/// The status page's stylesheet: the look of the report page (`ReportPage`), with panels for
/// the map, tables and sparklines.
extension StatusPage {
    static let style = """
        :root{--ok:#1f9d55;--fail:#d9363e;--other:#9aa5b5;--cut:#f08a24;--down:#7b4fd6;--warn:#e0a800;\
        --up:#2f6fdb;--dn:#0e8a9c;--ink:#1b2230;--muted:#5f6b7d;--line:#e2e6ed;--bg:#f5f6f8}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--ink);\
        font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        main{max-width:1440px;margin:0 auto;padding:20px 26px 32px}
        header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:flex-end;gap:16px;margin-bottom:16px}
        h1{margin:0;font-size:22px;font-weight:650;display:flex;align-items:center;gap:12px}
        h2{margin:0;font-size:15px;font-weight:650}
        .sub{color:var(--muted);margin-top:3px}
        .sub b{color:var(--ink);font-weight:600}
        .live{display:inline-flex;align-items:center;gap:6px;font-size:12px;font-weight:500;color:var(--muted);\
        background:#fff;border:1px solid var(--line);border-radius:999px;padding:2px 10px}
        .live i{width:8px;height:8px;border-radius:50%;background:var(--other)}
        .live.on i{background:var(--ok);box-shadow:0 0 0 3px rgba(31,157,85,.18)}
        .live.off{color:#b8282f;border-color:#f0c4c6}
        .live.off i{background:var(--fail)}
        .stats{display:flex;gap:10px;flex-wrap:wrap}
        .stat{background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px 14px;min-width:92px}
        .stat b{display:block;font-size:21px;font-variant-numeric:tabular-nums}
        .stat span{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em}
        .stat.alert b{color:#b8282f}
        .top{display:grid;grid-template-columns:minmax(420px,5fr) 7fr;gap:14px;margin-bottom:14px;align-items:start}
        @media (max-width:1000px){.top{grid-template-columns:1fr}}
        .side{display:flex;flex-direction:column;gap:14px;min-width:0}
        .panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px 12px;margin-bottom:14px;min-width:0}
        .top .panel,.side .panel{margin-bottom:0}
        .head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:10px;margin-bottom:8px}
        .legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted)}
        .sw{display:inline-block;width:16px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:5px}
        .sw.line{height:3px;vertical-align:3px}
        .count{color:var(--muted);font-size:12px}
        #map{display:block;width:100%;height:auto;max-height:460px}
        .node circle.body{fill:#fff;stroke:var(--ink);stroke-width:1.6}
        .node text{font-size:13px;font-weight:600;fill:var(--ink);text-anchor:middle;dominant-baseline:central}
        .node .ring{fill:none;stroke-width:3;stroke-dasharray:5 3}
        .link line{stroke-width:1.8}
        .link:not(.cut) line{stroke:#8a95a8}
        .link:not(.cut) polygon{fill:#8a95a8}
        .link.learned line{stroke-dasharray:2 3}
        .link.disabled{opacity:.35}
        .link.cut line{stroke-width:2.4;stroke-dasharray:6 4}
        .link text{font-size:10.5px;text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
        .link:not(.cut) text{fill:var(--muted)}
        .link.cut text{font-weight:600}
        .partitions{display:flex;flex-direction:column;gap:4px;margin-top:6px;font-size:12.5px}
        .partition{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
        .partition b{font-weight:600}
        .partition .groups{font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
        .muted{color:var(--muted)}
        table{width:100%;border-collapse:collapse;font-size:12.5px}
        th{text-align:left;font-weight:600;color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em;\
        padding:4px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
        td{padding:5px 8px;border-top:1px solid #eef0f4;vertical-align:top}
        tbody tr:nth-child(even){background:#fafbfc}
        tbody tr:hover{background:#edf3ff}
        .num{text-align:right;font-variant-numeric:tabular-nums}
        .mono{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
        .faults td:first-child{font-weight:600}
        .faults td:nth-child(1),.faults td:nth-child(2),.faults td:nth-child(3){white-space:nowrap}
        .type{display:inline-block;border-radius:4px;padding:0 6px;font-size:11.5px;font-weight:600;background:#eef1f6;color:#39465a}
        .type.partition{background:#fde8e9;color:#b8282f}
        .type.http{background:#efe9fb;color:#6237b8}
        .left{font-variant-numeric:tabular-nums;white-space:nowrap}
        .left b{font-weight:600}
        .left b.soon{color:#b8282f}
        .left .by{color:var(--muted);font-size:11.5px}
        .pill{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:600;background:#eef1f6;color:var(--muted)}
        .pill.running{background:#e3f5ea;color:#17804a}
        .pill.paused,.pill.waiting{background:#fbf1d3;color:#94700a}
        .schedule{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;font-size:13px}
        .schedule dt{color:var(--muted)}
        .schedule dd{margin:0}
        .traffic{display:flex;flex-direction:column}
        .route{display:grid;grid-template-columns:minmax(150px,220px) repeat(3,minmax(0,1fr));gap:16px;align-items:center;\
        padding:8px 4px;border-top:1px solid #eef0f4}
        .route:first-child{border-top:0}
        .route .name{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .route .meta{color:var(--muted);font-size:12px}
        .route .meta a{color:#2f5fc4;text-decoration:none}
        .route .meta a:hover{text-decoration:underline}
        .proto{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 5px;font-size:11px;color:var(--muted);margin-left:6px;font-weight:500}
        .metric{min-width:0}
        .metric .label{display:flex;justify-content:space-between;gap:8px;font-size:11px;color:var(--muted);\
        text-transform:uppercase;letter-spacing:.05em}
        .metric .value{font-size:13px;font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .metric .value.none{color:var(--muted)}
        .spark{display:block;width:100%;height:38px;background:#fafbfc;border:1px solid #eef0f4;border-radius:4px}
        .spark polyline{fill:none;stroke-width:1.6;vector-effect:non-scaling-stroke;stroke-linejoin:round}
        .spark polygon{stroke:none;opacity:.14}
        .filter{font-size:12px;color:var(--muted);display:flex;gap:6px;align-items:center}
        .filter select{font:inherit;color:var(--ink);border:1px solid var(--line);border-radius:6px;padding:2px 6px;background:#fff}
        .journal td:nth-child(2){white-space:nowrap;font-variant-numeric:tabular-nums;color:var(--muted)}
        .journal td:nth-child(3){white-space:nowrap;font-weight:600}
        .journal td:nth-child(4){word-break:break-word}
        .journal tr.partition td:nth-child(3),.journal tr.fault td:nth-child(3){color:#b8282f}
        .journal tr.healed td:nth-child(3),.journal tr.cleared td:nth-child(3){color:#17804a}
        .journal tbody{display:block;max-height:320px;overflow-y:auto}
        .journal thead,.journal tbody tr{display:table;width:100%;table-layout:fixed}
        .journal th:nth-child(1),.journal td:nth-child(1){width:64px}
        .journal th:nth-child(2),.journal td:nth-child(2){width:112px}
        .journal th:nth-child(3),.journal td:nth-child(3){width:170px}
        .empty{color:var(--muted);margin:8px 6px 2px}
        .empty[hidden]{display:none}
        footer{color:var(--muted);font-size:12px;margin-top:4px}
        """
}
