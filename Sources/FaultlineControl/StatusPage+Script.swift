/// The status page's script: polls the snapshot once a second, keeps the sparkline history, and
/// redraws the map, the faults, the schedule, the traffic and the journal tail.
///
/// Plain ES2017 with no library. It builds every element with `createElement`/`textContent`
/// (never `innerHTML`), and its only requests are GETs of `/v1/ui/snapshot` and `/v1/journal`.
extension StatusPage {
    static let script = #"""
        "use strict";
        (function () {
          const HISTORY = 180;        // seconds of sparkline history the page keeps
          const JOURNAL_TAIL = 200;   // events fetched when the page opens
          const JOURNAL_KEEP = 500;   // events kept in the page
          const PALETTE = ["#d9363e", "#7b4fd6", "#f08a24", "#0e8a9c", "#c2185b", "#5d7c1f"];
          const HTTP_CLASSES = [["2xx", "#1f9d55"], ["3xx", "#2f6fdb"], ["4xx", "#9aa5b5"], ["5xx", "#d9363e"],
                                ["other", "#f08a24"], ["1xx", "#5f6b7d"]];
          const SVGNS = "http://www.w3.org/2000/svg";
          const page = { previous: null, history: new Map(), journal: [], since: null, events: new Set(), updates: 0 };

          const $ = (id) => document.getElementById(id);
          function el(tag, className, text) {
            const node = document.createElement(tag);
            if (className) node.className = className;
            if (text !== undefined && text !== null) node.textContent = String(text);
            return node;
          }
          function svg(tag, attributes) {
            const node = document.createElementNS(SVGNS, tag);
            for (const key in attributes) node.setAttribute(key, String(attributes[key]));
            return node;
          }
          function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
          function round(value, digits) { const f = Math.pow(10, digits); return Math.round(value * f) / f; }

          // MARK: Formatting

          function bytesRate(value) {
            const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
            let unit = 0;
            while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
            return (unit === 0 ? Math.round(value) : value < 10 ? round(value, 1) : Math.round(value)) + " " + units[unit];
          }
          function perSecond(value) { return (value < 10 ? round(value, 1) : Math.round(value)) + "/s"; }
          function duration(ms) {
            if (ms < 1000) return ms + " ms";
            const s = ms / 1000;
            if (s < 60) return round(s, 1) + " s";
            const m = Math.floor(s / 60);
            if (m < 60) return m + " min " + Math.floor(s % 60) + " s";
            return Math.floor(m / 60) + " h " + (m % 60) + " min";
          }
          function routeText(route) {
            if (route === "*" || route === undefined) return "every route";
            return Array.isArray(route) ? route.join(", ") : String(route);
          }
          function value(v) { return typeof v === "string" ? v : JSON.stringify(v); }
          function groupsText(groups) { return groups.map((g) => g.join(", ")).join("  |  "); }

          // MARK: Partitions and their colours

          function partitionsOf(snapshot) {
            return snapshot.faults.map((f) => f.fault).filter((f) => f.type === "partition");
          }
          function partitionColours(snapshot) {
            const colours = new Map();
            partitionsOf(snapshot).forEach((p, i) => colours.set(p.id, PALETTE[i % PALETTE.length]));
            return colours;
          }
          function partitionSets(p) { return p.resolved || (p.groups ? [p.groups] : []); }

          // MARK: Map

          function layout(nodes, width, height) {
            const positions = new Map();
            if (nodes.length === 1) { positions.set(nodes[0], [width / 2, height / 2]); return positions; }
            // A circle in name order, the first node at the top: the same nodes always land in the same
            // places. The circle is then scaled to fill the box (a triangle need not leave the bottom empty).
            const unit = nodes.map((name, i) => {
              const angle = -Math.PI / 2 + 2 * Math.PI * i / nodes.length;
              return [Math.cos(angle), Math.sin(angle)];
            });
            const xs = unit.map((p) => p[0]), ys = unit.map((p) => p[1]);
            const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
            const margin = 58;
            const scale = Math.min((width - 2 * margin) / Math.max(maxX - minX, 0.001), (height - 2 * margin) / Math.max(maxY - minY, 0.001),
                                   nodes.length === 2 ? 150 : 1e9);
            const cx = width / 2 - scale * (minX + maxX) / 2, cy = height / 2 - scale * (minY + maxY) / 2;
            nodes.forEach((name, i) => positions.set(name, [cx + scale * unit[i][0], cy + scale * unit[i][1]]));
            return positions;
          }
          function arrowHead(tip, ux, uy, size) {
            const bx = tip[0] - ux * size, by = tip[1] - uy * size;
            const px = -uy * size * 0.55, py = ux * size * 0.55;
            return [tip[0], tip[1], bx + px, by + py, bx - px, by - py].map((v) => round(v, 1)).join(" ");
          }
          function drawMap(snapshot, colours) {
            const map = $("map");
            clear(map);
            const width = 560, height = 380, R = 30;
            const positions = layout(snapshot.nodes, width, height);
            if (snapshot.nodes.length === 0) {
              const text = svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", fill: "#5f6b7d", "font-size": 13 });
              text.textContent = "No nodes: give routes from/to, or a nodes map, to see the cluster here.";
              map.appendChild(text);
            }
            // Links between the same two nodes sit side by side, offset across a canonical direction.
            const pairs = new Map();
            for (const link of snapshot.links) {
              if (!positions.has(link.from) || !positions.has(link.to) || link.from === link.to) continue;
              const key = [link.from, link.to].sort().join("\u0000");
              if (!pairs.has(key)) pairs.set(key, []);
              pairs.get(key).push(link);
            }
            const links = svg("g", { class: "links" });
            for (const [key, group] of pairs) {
              const [a, b] = key.split("\u0000");
              const pa = positions.get(a), pb = positions.get(b);
              const len = Math.hypot(pb[0] - pa[0], pb[1] - pa[1]) || 1;
              const nx = -(pb[1] - pa[1]) / len, ny = (pb[0] - pa[0]) / len;
              group.sort((x, y) => (x.from + x.route < y.from + y.route ? -1 : 1));
              group.forEach((link, index) => {
                const offset = (index - (group.length - 1) / 2) * 15;
                links.appendChild(drawLink(link, positions, nx * offset, ny * offset, R, colours));
              });
            }
            map.appendChild(links);
            const firstGroups = new Map();
            for (const p of partitionsOf(snapshot)) {
              for (const sets of partitionSets(p)) {
                for (const name of sets[0] || []) {
                  if (!firstGroups.has(name)) firstGroups.set(name, []);
                  firstGroups.get(name).push(colours.get(p.id));
                }
              }
            }
            for (const name of snapshot.nodes) {
              const [x, y] = positions.get(name);
              const node = svg("g", { class: "node", "data-node": name, transform: "translate(" + round(x, 1) + " " + round(y, 1) + ")" });
              (firstGroups.get(name) || []).forEach((colour, i) => {
                node.appendChild(svg("circle", { class: "ring", r: R + 5 + i * 5, stroke: colour }));
              });
              node.appendChild(svg("circle", { class: "body", r: R }));
              const label = svg("text", {});
              label.textContent = name.length > 9 ? name.slice(0, 8) + "…" : name;
              node.appendChild(label);
              const title = svg("title", {});
              title.textContent = name;
              node.appendChild(title);
              map.appendChild(node);
            }
          }
          function drawLink(link, positions, ox, oy, R, colours) {
            const p = positions.get(link.from), q = positions.get(link.to);
            const len = Math.hypot(q[0] - p[0], q[1] - p[1]) || 1;
            const ux = (q[0] - p[0]) / len, uy = (q[1] - p[1]) / len;
            const start = [p[0] + ux * (R + 3) + ox, p[1] + uy * (R + 3) + oy];
            const end = [q[0] - ux * (R + 4) + ox, q[1] - uy * (R + 4) + oy];
            const cut = link.cut || "none";
            const colour = cut === "none" ? null : colours.get(link.partitions[0]) || "#d9363e";
            const classes = ["link"];
            if (cut !== "none") classes.push("cut");
            if (link.learned) classes.push("learned");
            if (!link.enabled) classes.push("disabled");
            const group = svg("g", { class: classes.join(" "), "data-route": link.route, "data-from": link.from, "data-to": link.to,
                                     "data-cut": cut, "data-partitions": link.partitions.join(" ") });
            const stroke = colour ? { stroke: colour } : {};
            const fill = colour ? { fill: colour } : {};
            const mid = [(start[0] + end[0]) / 2, (start[1] + end[1]) / 2];
            if (cut === "none") {
              group.appendChild(svg("line", Object.assign({ x1: round(start[0], 1), y1: round(start[1], 1),
                                                            x2: round(end[0] - ux * 8, 1), y2: round(end[1] - uy * 8, 1) }, stroke)));
            } else {
              // Broken: a gap in the middle, a bar at each side of it, and in the gap an arrow per blocked
              // direction (one for a one-way cut, two for a cut both ways).
              const gap = 13;
              const a = [mid[0] - ux * gap, mid[1] - uy * gap], b = [mid[0] + ux * gap, mid[1] + uy * gap];
              group.appendChild(svg("line", Object.assign({ x1: round(start[0], 1), y1: round(start[1], 1), x2: round(a[0], 1), y2: round(a[1], 1) }, stroke)));
              group.appendChild(svg("line", Object.assign({ x1: round(b[0], 1), y1: round(b[1], 1),
                                                            x2: round(end[0] - ux * 8, 1), y2: round(end[1] - uy * 8, 1) }, stroke)));
              for (const at of [a, b]) {
                group.appendChild(svg("line", { class: "bar", x1: round(at[0] - uy * 7, 1), y1: round(at[1] + ux * 7, 1),
                                                x2: round(at[0] + uy * 7, 1), y2: round(at[1] - ux * 7, 1), stroke: colour,
                                                "stroke-dasharray": "none", "stroke-width": 2.4 }));
              }
              if (cut === "upstream" || cut === "both") {
                const tip = cut === "both" ? [mid[0] + ux * 8, mid[1] + uy * 8] : [mid[0] + ux * 5, mid[1] + uy * 5];
                group.appendChild(svg("polygon", Object.assign({ class: "blocked", "data-direction": "upstream", points: arrowHead(tip, ux, uy, 8) }, fill)));
              }
              if (cut === "downstream" || cut === "both") {
                const tip = cut === "both" ? [mid[0] - ux * 8, mid[1] - uy * 8] : [mid[0] - ux * 5, mid[1] - uy * 5];
                group.appendChild(svg("polygon", Object.assign({ class: "blocked", "data-direction": "downstream", points: arrowHead(tip, -ux, -uy, 8) }, fill)));
              }
            }
            group.appendChild(svg("polygon", Object.assign({ points: arrowHead(end, ux, uy, 10) }, fill)));
            // The route's name along its arrow, beside the middle, on the side its offset points to.
            const side = ox || oy ? Math.sign(ox * -uy + oy * ux) || 1 : -1;
            let angle = Math.atan2(uy, ux) * 180 / Math.PI;
            if (angle > 90) angle -= 180;
            if (angle < -90) angle += 180;
            const at = [mid[0] - uy * 13 * side, mid[1] + ux * 13 * side];
            const label = svg("text", Object.assign({ x: round(at[0], 1), y: round(at[1], 1), "dominant-baseline": "central",
                                                      transform: "rotate(" + round(angle, 1) + " " + round(at[0], 1) + " " + round(at[1], 1) + ")" },
                                                    colour ? { fill: colour } : {}));
            label.textContent = link.route + (cut === "none" ? "" : cut === "both" ? " · cut" : " · one-way cut");
            group.appendChild(label);
            const title = svg("title", {});
            const what = { none: "open", both: "cut both ways", upstream: "cut one way: " + link.from + " → " + link.to + " dropped",
                           downstream: "cut one way: answers " + link.to + " → " + link.from + " dropped" }[cut];
            title.textContent = "route " + link.route + ": " + link.from + " → " + link.to + (link.learned ? " (caller learned from its address)" : "")
              + " · " + what + (link.partitions.length ? " by " + link.partitions.join(", ") : "");
            group.appendChild(title);
            return group;
          }
          function drawPartitions(snapshot, colours) {
            const box = $("partitions");
            clear(box);
            for (const p of partitionsOf(snapshot)) {
              const row = el("div", "partition");
              row.setAttribute("data-partition", p.id);
              const swatch = el("i", "sw");
              swatch.setAttribute("data-colour", colours.get(p.id));
              row.appendChild(swatch);
              row.appendChild(el("b", null, p.id));
              row.appendChild(el("span", "groups", partitionSets(p).map(groupsText).join("   ·   ") || "(no groups)"));
              const cut = snapshot.links.filter((l) => l.partitions.indexOf(p.id) >= 0).length;
              row.appendChild(el("span", "muted", p.mode + (p.one_way ? " · one-way (traffic leaving the first group)" : "")
                + (p.kind ? " · " + p.kind + (p.node ? " " + p.node : "") : "") + " · " + cut + " link" + (cut === 1 ? "" : "s") + " cut"));
              box.appendChild(row);
            }
            // CSP forbids style attributes in markup; a swatch gets its colour through the CSSOM.
            for (const swatch of box.querySelectorAll("i[data-colour]")) swatch.style.background = swatch.getAttribute("data-colour");
            const legend = $("map-legend");
            clear(legend);
            legend.appendChild(legendItem("#8a95a8", "route (caller → service)", true));
            if (snapshot.links.some((l) => l.learned)) legend.appendChild(legendItem("#8a95a8", "caller learned from address", true, true));
            if (partitionsOf(snapshot).length) legend.appendChild(legendItem("#d9363e", "cut; ring = a partition's first group", true, true));
          }
          function legendItem(colour, text, line, dashed) {
            const item = el("span");
            const sw = el("i", "sw" + (line ? " line" : ""));
            sw.style.background = dashed ? "repeating-linear-gradient(90deg," + colour + " 0 4px,transparent 4px 7px)" : colour;
            item.appendChild(sw);
            item.appendChild(document.createTextNode(text));
            return item;
          }

          // MARK: Faults

          const ENVELOPE = new Set(["id", "type", "route", "match", "probability", "attempts", "mark", "resolved", "groups",
                                    "kind", "node", "mode", "one_way"]);
          function matchText(match) {
            if (!match) return "—";
            const parts = [];
            if (match.method) parts.push(Array.isArray(match.method) ? match.method.join("|") : match.method);
            if (match.path) parts.push(match.path);
            if (match.path_prefix) parts.push(match.path_prefix + "*");
            for (const name in match.headers || {}) parts.push(name + ": " + match.headers[name]);
            return parts.join(" ") || "—";
          }
          function parametersText(f) {
            const parts = [];
            if (f.type === "partition") {
              if (f.kind) parts.push("kind=" + f.kind + (f.node ? " node=" + f.node : ""));
              parts.push("groups=" + partitionSets(f).map(groupsText).join(" · "));
              parts.push("mode=" + f.mode);
              if (f.one_way) parts.push("one_way");
            }
            for (const key in f) {
              if (ENVELOPE.has(key) || (key === "direction" && f[key] === "both")) continue;
              const v = f[key];
              if (v === "" || (typeof v === "object" && v !== null && Object.keys(v).length === 0)) continue;
              parts.push(key + "=" + value(f[key]));
            }
            if (f.mark) parts.push("mark");
            return parts.join("  ");
          }
          function chanceText(f) {
            if (f.attempts) return "first " + f.attempts.first + " per " + f.attempts.key;
            if (f.probability === undefined) return "—";
            return f.probability >= 1 ? "always" : round(f.probability * 100, 2) + " %";
          }
          function drawFaults(snapshot) {
            const body = $("faults").tBodies[0];
            clear(body);
            for (const item of snapshot.faults) {
              const f = item.fault;
              const row = el("tr");
              row.setAttribute("data-fault", f.id);
              row.appendChild(el("td", null, f.id));
              const type = el("td");
              type.appendChild(el("span", "type " + (f.type === "partition" ? "partition" : "mark" in f ? "http" : ""), f.type));
              row.appendChild(type);
              row.appendChild(el("td", null, routeText(f.route)));
              row.appendChild(el("td", "mono", matchText(f.match)));
              row.appendChild(el("td", "mono", parametersText(f)));
              row.appendChild(el("td", null, chanceText(f)));
              row.appendChild(el("td", "num", item.injections));
              const left = el("td", "left");
              if (item.ends) {
                left.appendChild(el("b", !item.ends.paused && item.ends.in_ms < 10000 ? "soon" : null,
                                    duration(item.ends.in_ms) + (item.ends.paused ? ", paused" : "")));
                left.appendChild(el("div", "by", item.ends.by === "expires" ? "its for" : item.ends.by === "for" ? "step " + item.ends.step + "'s for" : "clear at step " + item.ends.step));
              } else {
                left.appendChild(el("span", "muted", "until cleared"));
              }
              row.appendChild(left);
              body.appendChild(row);
            }
            $("faults-empty").hidden = snapshot.faults.length > 0;
            $("fault-count").textContent = snapshot.faults.length ? snapshot.faults.length + " in force" : "";
          }

          // MARK: Schedule

          function drawSchedule(snapshot) {
            const s = snapshot.schedule || { state: "none" };
            const pill = $("schedule-state");
            pill.textContent = s.state;
            pill.className = "pill " + s.state;
            const box = $("schedule");
            clear(box);
            const rows = [];
            if (s.state === "none") {
              rows.push(["schedule", "none loaded (PUT /v1/schedule, or a config schedule)"]);
            } else {
              rows.push(["start", s.start]);
              rows.push(["steps run", s.steps_run + " of " + s.steps_total]);
              if (s.elapsed_ms !== null && s.elapsed_ms !== undefined) rows.push(["elapsed", duration(s.elapsed_ms)]);
              if (s.starts_at) rows.push(["starts at", s.starts_at]);
              if (s.next) {
                const n = s.next;
                rows.push(["next", "step " + n.step + (n.iteration ? " (repetition " + n.iteration + ")" : "") + ": " + n.action + " "
                  + n.fault + (n.automatic ? " (end of its for)" : "") + " at +" + n.due
                  + (n.due_in_ms !== undefined ? ", in " + duration(n.due_in_ms) : "")]);
              } else {
                rows.push(["next", "—"]);
              }
              rows.push(["applied by it", s.applied && s.applied.length ? s.applied.join(", ") : "—"]);
            }
            for (const [key, text] of rows) {
              box.appendChild(el("dt", null, key));
              box.appendChild(el("dd", null, text));
            }
          }

          // MARK: Traffic

          function record(snapshot) {
            const previous = page.previous;
            if (previous && snapshot.uptime_ms < previous.uptime_ms) page.history.clear();  // the daemon restarted
            const before = new Map(previous && snapshot.uptime_ms >= previous.uptime_ms ? previous.routes.map((r) => [r.name, r]) : []);
            const seconds = previous ? (snapshot.uptime_ms - previous.uptime_ms) / 1000 : 0;
            for (const route of snapshot.routes) {
              if (!page.history.has(route.name)) page.history.set(route.name, { up: [], down: [], open: [], http: {} });
              const h = page.history.get(route.name);
              const t = route.traffic, old = before.get(route.name);
              if (old && seconds > 0) {
                const rate = (now, then) => Math.max(0, now - then) / seconds;
                h.up.push(rate(t.bytes_upstream, old.traffic.bytes_upstream));
                h.down.push(rate(t.bytes_downstream, old.traffic.bytes_downstream));
                if (t.http) {
                  for (const [name] of HTTP_CLASSES) {
                    if (!h.http[name]) h.http[name] = [];
                    h.http[name].push(rate(t.http[name], old.traffic.http ? old.traffic.http[name] : 0));
                  }
                }
              }
              h.open.push(t.connections_active);
              for (const series of [h.up, h.down, h.open].concat(Object.values(h.http))) {
                while (series.length > HISTORY) series.shift();
              }
            }
            for (const name of Array.from(page.history.keys())) {
              if (!snapshot.routes.some((r) => r.name === name)) page.history.delete(name);
            }
            page.previous = snapshot;
          }
          function sparkline(name, lines, minimumMax) {
            // The window grows with the history, from a minute to HISTORY seconds, newest at the right.
            let longest = 0;
            for (const line of lines) longest = Math.max(longest, line.values.length);
            const width = Math.min(HISTORY, Math.max(60, longest)), height = 36;
            const chart = svg("svg", { class: "spark", viewBox: "0 0 " + width + " " + height, preserveAspectRatio: "none",
                                       "data-series": name });
            let max = minimumMax;
            for (const line of lines) for (const v of line.values) max = Math.max(max, v);
            lines.forEach((line, index) => {
              const values = line.values;
              if (values.length === 0) return;
              const x0 = width - Math.max(1, values.length - 1);
              const y = (v) => round(height - 2 - (v / max) * (height - 6), 2);
              const points = values.map((v, i) => round(width - (values.length - 1 - i), 1) + "," + y(v));
              if (values.length === 1) points.unshift(x0 + "," + y(values[0]));
              if (index === 0) {
                chart.appendChild(svg("polygon", { points: x0 + "," + height + " " + points.join(" ") + " " + width + "," + height, fill: line.colour }));
              }
              chart.appendChild(svg("polyline", { points: points.join(" "), stroke: line.colour, "data-line": line.name }));
            });
            const primary = lines.length ? lines[0].values : [];
            chart.setAttribute("data-points", primary.length);
            chart.setAttribute("data-last", primary.length ? round(lines.reduce((sum, l) => sum + (l.values[l.values.length - 1] || 0), 0), 3) : "");
            return chart;
          }
          function metric(label, hint, chart, text, none) {
            const box = el("div", "metric");
            const head = el("div", "label");
            head.appendChild(el("span", null, label));
            head.appendChild(el("span", null, hint));
            box.appendChild(head);
            box.appendChild(chart);
            box.appendChild(el("div", "value" + (none ? " none" : ""), text));
            return box;
          }
          function last(values) { return values.length ? values[values.length - 1] : 0; }
          function drawTraffic(snapshot) {
            const box = $("traffic");
            clear(box);
            if (snapshot.routes.length === 0) box.appendChild(el("p", "empty", "No routes."));
            for (const route of snapshot.routes) {
              const h = page.history.get(route.name);
              const row = el("div", "route");
              row.setAttribute("data-route", route.name);
              const about = el("div");
              const name = el("div", "name", route.name);
              name.appendChild(el("span", "proto", route.protocol));
              about.appendChild(name);
              const meta = el("div", "meta");
              meta.appendChild(document.createTextNode((route.from || "any") + " → " + (route.to || "?") + " · "
                + (route.bound || "disabled") + " → " + route.upstream));
              if (route.protocol === "http" || route.protocol === "grpc") {
                meta.appendChild(document.createTextNode(" · "));
                const link = el("a", "report", "report");
                link.href = "/v1/report?route=" + encodeURIComponent(route.name);
                link.rel = "noopener";
                meta.appendChild(link);
              }
              about.appendChild(meta);
              row.appendChild(about);
              const t = route.traffic;
              row.appendChild(metric("bytes/s", "↑ to service  ↓ back",
                sparkline("bytes", [{ name: "upstream", values: h.up, colour: "#2f6fdb" }, { name: "downstream", values: h.down, colour: "#0e8a9c" }], 64),
                h.up.length ? "↑ " + bytesRate(last(h.up)) + "   ↓ " + bytesRate(last(h.down)) : "measuring…", !h.up.length));
              row.appendChild(metric("connections", "open",
                sparkline("connections", [{ name: "open", values: h.open, colour: "#7b4fd6" }], 2),
                t.connections_active + " open · " + t.connections_accepted + " accepted", false));
              if (t.http) {
                const lines = HTTP_CLASSES.filter(([c]) => (h.http[c] || []).some((v) => v > 0) || c === "2xx")
                  .map(([c, colour]) => ({ name: c, values: h.http[c] || [], colour: colour }));
                const now = HTTP_CLASSES.filter(([c]) => last(h.http[c] || []) > 0).map(([c]) => c + " " + perSecond(last(h.http[c])));
                row.appendChild(metric("http requests/s", "by status class", sparkline("http", lines, 2),
                  (h.http["2xx"] || []).length ? now.join("  ") || "0/s" : "measuring…", !now.length));
              } else {
                row.appendChild(el("div", "metric"));
              }
              box.appendChild(row);
            }
            const legend = $("traffic-legend");
            clear(legend);
            legend.appendChild(legendItem("#2f6fdb", "bytes to the service", true));
            legend.appendChild(legendItem("#0e8a9c", "bytes back", true));
            if (snapshot.routes.some((r) => r.traffic.http)) {
              for (const [c, colour] of HTTP_CLASSES.slice(0, 5)) legend.appendChild(legendItem(colour, c, true));
            }
            legend.appendChild(el("span", null, "last " + HISTORY / 60 + " min"));
          }

          // MARK: Journal

          async function pollJournal(snapshot) {
            if (page.since === null) page.since = Math.max(0, snapshot.journal_last - JOURNAL_TAIL);
            if (snapshot.journal_last <= page.since) return;
            const response = await fetch("/v1/journal?since=" + page.since, { credentials: "same-origin", cache: "no-store" });
            if (!response.ok) throw new Error("journal: HTTP " + response.status);
            const text = await response.text();
            for (const line of text.split("\n")) {
              if (!line) continue;
              let entry;
              try { entry = JSON.parse(line); } catch (e) { continue; }
              if (typeof entry.seq !== "number" || entry.seq <= page.since) continue;
              page.since = entry.seq;
              page.journal.push(entry);
              if (!page.events.has(entry.event)) addEventOption(entry.event);
            }
            while (page.journal.length > JOURNAL_KEEP) page.journal.shift();
            drawJournal();
          }
          function addEventOption(name) {
            page.events.add(name);
            const select = $("journal-filter");
            const names = Array.from(page.events).sort();
            const chosen = select.value;
            while (select.options.length > 1) select.remove(1);
            for (const n of names) {
              const option = el("option", null, n);
              option.value = n;
              select.appendChild(option);
            }
            select.value = chosen;
          }
          function drawJournal() {
            const filter = $("journal-filter").value;
            const body = $("journal").tBodies[0];
            clear(body);
            let shown = 0;
            for (let i = page.journal.length - 1; i >= 0 && shown < 300; i--) {
              const e = page.journal[i];
              if (filter && e.event !== filter) continue;
              shown += 1;
              const row = el("tr", e.event.replace(/\..*$/, "") + " " + e.event.replace(/^.*\./, ""));
              row.setAttribute("data-event", e.event);
              row.setAttribute("data-seq", e.seq);
              row.appendChild(el("td", "num", e.seq));
              row.appendChild(el("td", null, typeof e.ts === "string" ? e.ts.slice(11, 23) : ""));
              row.appendChild(el("td", null, e.event));
              const details = [];
              for (const key in e) {
                if (key === "seq" || key === "ts" || key === "event") continue;
                let text = value(e[key]);
                if (text.length > 160) text = text.slice(0, 157) + "…";
                details.push(key + "=" + text);
              }
              row.appendChild(el("td", "mono", details.join("  ")));
              body.appendChild(row);
            }
            $("journal-empty").hidden = shown > 0;
            $("journal-empty").textContent = page.journal.length ? "No " + filter + " events in the last " + page.journal.length + "." : "No events yet.";
          }

          // MARK: Header

          function drawHeader(snapshot) {
            const sub = $("sub");
            clear(sub);
            const parts = [["version", snapshot.version], ["up", duration(snapshot.uptime_ms)], ["seed", snapshot.seed],
                           ["plan", "v" + snapshot.plan_version], ["workers", snapshot.workers]];
            parts.forEach(([key, text], i) => {
              if (i) sub.appendChild(document.createTextNode(" · "));
              sub.appendChild(document.createTextNode(key + " "));
              sub.appendChild(el("b", null, text));
            });
            const cut = snapshot.links.reduce((n, l) => n + (l.cut === "both" ? 2 : l.cut ? 1 : 0), 0);
            const stats = $("stats");
            clear(stats);
            for (const [label, n, alert] of [["nodes", snapshot.nodes.length], ["routes", snapshot.routes.length],
                                             ["faults", snapshot.faults.length, snapshot.faults.length > 0],
                                             ["links cut", cut, cut > 0], ["connections", snapshot.open_connections]]) {
              const stat = el("div", "stat" + (alert ? " alert" : ""));
              stat.setAttribute("data-stat", label);
              stat.appendChild(el("b", null, n));
              stat.appendChild(el("span", null, label));
              stats.appendChild(stat);
            }
          }
          function setLive(ok, detail) {
            const live = $("live");
            live.className = "live " + (ok ? "on" : "off");
            $("live-text").textContent = ok ? "live · " + detail.slice(11, 19) + " UTC" : "no answer: " + detail;
          }

          // MARK: Loop

          function render(snapshot) {
            record(snapshot);
            const colours = partitionColours(snapshot);
            drawHeader(snapshot);
            drawMap(snapshot, colours);
            drawPartitions(snapshot, colours);
            drawFaults(snapshot);
            drawSchedule(snapshot);
            drawTraffic(snapshot);
            page.updates += 1;
            document.body.setAttribute("data-updates", page.updates);
          }
          async function tick() {
            const started = Date.now();
            try {
              const response = await fetch("/v1/ui/snapshot", { credentials: "same-origin", cache: "no-store" });
              if (!response.ok) throw new Error("HTTP " + response.status);
              const snapshot = await response.json();
              render(snapshot);
              setLive(true, snapshot.time);
              await pollJournal(snapshot);
            } catch (error) {
              setLive(false, error.message || String(error));
            }
            setTimeout(tick, Math.max(100, 1000 - (Date.now() - started)));
          }
          document.addEventListener("DOMContentLoaded", () => {
            $("journal-filter").addEventListener("change", drawJournal);
            tick();
          });
        })();

        """#
}
