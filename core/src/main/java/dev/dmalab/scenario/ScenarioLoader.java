package dev.dmalab.scenario;

import dev.dmalab.check.Category;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Feature;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.YamlNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a scenario file (the language is documented in {@code docs/SCENARIOS.md}) into a {@link Scenario}. Every
 * mistake in the file is an {@link InputException} naming the file, the line and the field, such as {@code
 * scenario.yaml:14: direction: expected one of TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL (or NONE), got TO_DEV}:
 * unknown keys, wrong values, expressions that do not parse or read undefined variables, and {@code when:} names
 * that are not variants are all found when the file is loaded, before anything runs. What depends on the run
 * (buffer and mapping names, which may be computed) is checked when the step runs, with the same file and line.
 */
public final class ScenarioLoader {
    private ScenarioLoader() {}

    /** The constants every expression may read besides loop variables and {@code vars}. */
    static final Set<String> CONSTANTS = Set.of("page_size", "cache_line", "cache_size", "cpus", "DMA_MAPPING_ERROR");

    /** Loads a scenario file. */
    public static Scenario load(Path path) {
        String file = path.toString();
        if (!Files.isRegularFile(path)) {
            throw new InputException(file, 0, null, "no such scenario file");
        }
        try {
            return parse(file, Files.readString(path, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new InputException(file, 0, null, "cannot read: " + e.getMessage());
        }
    }

    /** Loads a scenario from a stream (the built-in library). */
    static Scenario load(String file, InputStream in) {
        try (in) {
            return parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new InputException(file, 0, null, "cannot read: " + e.getMessage());
        }
    }

    /** Parses and checks scenario text. */
    public static Scenario parse(String file, String text) {
        Reader reader = new StringReader(text);
        YamlNode root = YamlNode.parse(file, reader);
        Parser p = new Parser(file);
        try {
            return p.scenario(root, text);
        } catch (InputException e) {
            // errors the YAML tree raises name a dotted path; a scenario's errors name the field, the line says where
            String f = e.field();
            if (f == null || !f.contains(".") && !f.contains("[")) {
                throw e;
            }
            String last = f.substring(f.lastIndexOf('.') + 1);
            int br = last.indexOf('[');
            throw new InputException(e.file(), e.line(), br < 0 ? last : last.substring(0, br), e.reason());
        }
    }

    /** The field name an error names: the last key of a node's path. */
    static String leaf(YamlNode n) {
        String path = n.path();
        int dot = path.lastIndexOf('.');
        String last = dot < 0 ? path : path.substring(dot + 1);
        int br = last.indexOf('[');
        return br < 0 ? last : last.substring(0, br);
    }

    static InputException error(YamlNode n, String reason) {
        return new InputException(n.file(), n.line(), leaf(n), reason);
    }

    /** The parser's state: the variables in scope, for load-time checks of expressions. */
    private static final class Parser {
        private final String file;
        private final Deque<String> loopVars = new ArrayDeque<>();
        private final Map<String, Long> vars = new LinkedHashMap<>();
        private List<String> variants = List.of("default");

        Parser(String file) {
            this.file = file;
        }

        Scenario scenario(YamlNode root, String text) {
            root.checkKeys(
                    "name", "description", "variants", "devices", "requires", "entry", "expect", "vars", "steps");
            YamlNode nameNode = root.get("name");
            String name = nameNode.text();
            if (!name.matches("[a-z0-9][a-z0-9-]*")) {
                throw error(nameNode, "expected lower-case letters, digits and '-', got " + name);
            }
            String description = root.get("description").text();
            YamlNode v = root.opt("variants");
            Map<String, String> variantDescriptions = new LinkedHashMap<>();
            if (v != null) {
                List<String> vs = new ArrayList<>();
                for (YamlNode e : v.elements()) {
                    YamlNode nameOf = e;
                    if (e.isMap()) {
                        e.checkKeys("name", "description");
                        nameOf = e.get("name");
                    }
                    String s = nameOf.text();
                    if (!s.matches("[a-z0-9][a-z0-9-]*") || vs.contains(s)) {
                        throw error(nameOf, "expected distinct lower-case names, got " + s);
                    }
                    vs.add(s);
                    if (e.isMap() && e.has("description")) {
                        variantDescriptions.put(s, e.get("description").text());
                    }
                }
                if (vs.isEmpty()) {
                    throw error(v, "expected at least one variant");
                }
                variants = List.copyOf(vs);
            }
            YamlNode vn = root.opt("vars");
            if (vn != null) {
                if (!vn.isMap()) {
                    throw error(vn, "expected a mapping of names to numbers");
                }
                for (String k : vn.keys()) {
                    YamlNode e = vn.get(k);
                    if (!k.matches("[A-Za-z_][A-Za-z0-9_]*") || CONSTANTS.contains(k)) {
                        throw error(e, "not a usable variable name: " + k);
                    }
                    vars.put(k, eval(e));
                }
            }
            Scenario.Devices devices = devices(root.opt("devices"));
            Scenario.Requires requires = requires(root.opt("requires"));
            String entry = null;
            if (root.has("entry")) {
                entry = function(root.get("entry"));
            }
            Category expect = null;
            YamlNode ex = root.opt("expect");
            if (ex != null) {
                ex.checkKeys("finding");
                YamlNode f = ex.get("finding");
                expect = category(f);
            }
            List<Step> steps = steps(root.get("steps"));
            return new Scenario(
                    name,
                    description,
                    file,
                    text,
                    variants,
                    variantDescriptions,
                    devices,
                    requires,
                    entry,
                    expect,
                    vars,
                    steps);
        }

        // ---- header

        private Scenario.Devices devices(YamlNode n) {
            if (n == null) {
                return Scenario.Devices.EACH;
            }
            if (n.isScalar()) {
                return switch (n.text()) {
                    case "each" -> Scenario.Devices.EACH;
                    case "first" -> new Scenario.Devices(Scenario.Need.ANY, List.of(), false, false);
                    case "none" -> Scenario.Devices.NONE;
                    default -> throw error(n, "expected each, first, none or a mapping, got " + n.text());
                };
            }
            n.checkKeys("need", "drivers", "each", "otherwise");
            Scenario.Need need = Scenario.Need.ANY;
            if (n.has("need")) {
                need = enumValue(n.get("need"), Scenario.Need.class, "any, non-coherent, iommu, pci");
            }
            List<String> drivers = new ArrayList<>();
            if (n.has("drivers")) {
                for (YamlNode d : list(n.get("drivers"))) {
                    drivers.add(d.text());
                }
            }
            boolean each = n.bool("each", false);
            boolean otherwiseFirst = false;
            if (n.has("otherwise")) {
                YamlNode o = n.get("otherwise");
                otherwiseFirst = switch (o.text()) {
                    case "first" -> true;
                    case "skip" -> false;
                    default -> throw error(o, "expected first or skip, got " + o.text());
                };
            }
            return new Scenario.Devices(need, drivers, each, otherwiseFirst);
        }

        private Scenario.Requires requires(YamlNode n) {
            if (n == null) {
                return Scenario.Requires.NOTHING;
            }
            n.checkKeys("features", "arch", "otherwise");
            List<Feature> features = new ArrayList<>();
            if (n.has("features")) {
                for (YamlNode f : list(n.get("features"))) {
                    try {
                        features.add(Feature.valueOf(f.text()));
                    } catch (IllegalArgumentException e) {
                        throw error(f, "no kernel feature " + f.text() + " (see 'dmalab kernels --features')");
                    }
                }
            }
            ArchKind arch = null;
            if (n.has("arch")) {
                YamlNode a = n.get("arch");
                arch = switch (a.text()) {
                    case "x86_64" -> ArchKind.X86_64;
                    case "arm64" -> ArchKind.ARM64;
                    case "arm" -> ArchKind.ARM32;
                    default -> throw error(a, "expected x86_64, arm64 or arm, got " + a.text());
                };
            }
            boolean otherwiseRun = false;
            if (n.has("otherwise")) {
                YamlNode o = n.get("otherwise");
                otherwiseRun = switch (o.text()) {
                    case "run" -> true;
                    case "skip" -> false;
                    default -> throw error(o, "expected run or skip, got " + o.text());
                };
            }
            return new Scenario.Requires(features, arch, otherwiseRun);
        }

        private Category category(YamlNode f) {
            for (Category c : Category.values()) {
                if (c.id().equals(f.text())) {
                    return c;
                }
            }
            List<String> ids = new ArrayList<>();
            for (Category c : Category.values()) {
                ids.add(c.id());
            }
            throw error(f, "no checker finding " + f.text() + " (known: " + String.join(", ", ids) + ")");
        }

        // ---- steps

        private List<Step> steps(YamlNode n) {
            List<Step> out = new ArrayList<>();
            for (YamlNode s : list(n)) {
                out.add(step(s));
            }
            return out;
        }

        private static final List<String> OPS = List.of(
                "task",
                "mark",
                "wait",
                "repeat",
                "function",
                "buffer",
                "free",
                "live",
                "cpu_write",
                "cpu_read",
                "thrash_cache",
                "map",
                "map_sg",
                "unmap",
                "sync_for_cpu",
                "sync_for_device",
                "device_read",
                "device_write",
                "bind_driver",
                "unbind_driver",
                "initcalls",
                "sata_io",
                "blkback_io");

        private Step step(YamlNode s) {
            if (!s.isMap()) {
                throw error(s, "expected a step: a mapping with one of " + String.join(", ", OPS));
            }
            String op = null;
            YamlNode args = null;
            for (String k : s.keys()) {
                if (k.equals("when") || k.equals("unless")) {
                    continue;
                }
                YamlNode child = s.raw(k);
                if (!OPS.contains(k)) {
                    throw error(child, "unknown step (known: " + String.join(", ", OPS) + ")");
                }
                if (op != null) {
                    throw error(child, "one operation per step ('" + op + "' is already this step's)");
                }
                op = k;
                args = s.opt(k);
            }
            if (op == null) {
                throw new InputException(
                        file, s.line(), null, "a step needs an operation: one of " + String.join(", ", OPS));
            }
            List<String> when = null;
            boolean unless = false;
            if (s.has("when") && s.has("unless")) {
                throw error(s.get("unless"), "give when or unless, not both");
            }
            YamlNode w = s.has("when") ? s.get("when") : s.opt("unless");
            if (w != null) {
                unless = s.has("unless");
                when = new ArrayList<>();
                for (YamlNode e : list(w)) {
                    if (!variants.contains(e.text())) {
                        throw error(
                                e,
                                "no variant " + e.text() + " (this scenario's: " + String.join(", ", variants) + ")");
                    }
                    when.add(e.text());
                }
            }
            Step.Ctx at = new Step.Ctx(file, s.line(), when, unless);
            return switch (op) {
                case "task" -> task(at, args, s);
                case "wait" -> new Steps.Wait(at, duration(need(args, s, op)));
                case "mark" -> new Steps.Mark(at, need(args, s, op).text());
                case "repeat" -> repeat(at, need(args, s, op));
                case "function" -> functionStep(at, need(args, s, op));
                case "buffer" -> buffer(at, need(args, s, op));
                case "free" -> free(at, need(args, s, op));
                case "live" -> live(at, need(args, s, op));
                case "cpu_write" -> cpuWrite(at, need(args, s, op));
                case "cpu_read" -> cpuRead(at, need(args, s, op));
                case "thrash_cache" -> thrash(at, need(args, s, op));
                case "map" -> map(at, need(args, s, op));
                case "map_sg" -> mapSg(at, need(args, s, op));
                case "unmap" -> unmap(at, need(args, s, op));
                case "sync_for_cpu" -> sync(at, need(args, s, op), true);
                case "sync_for_device" -> sync(at, need(args, s, op), false);
                case "device_read" -> deviceAccess(at, need(args, s, op), false);
                case "device_write" -> deviceAccess(at, need(args, s, op), true);
                case "bind_driver" -> bindDriver(at, need(args, s, op));
                case "unbind_driver" -> {
                    if (args != null && !(args.isMap() && args.keys().isEmpty())) {
                        throw error(args, "takes no arguments (write 'unbind_driver: {}')");
                    }
                    yield new Steps.UnbindDriver(at);
                }
                case "initcalls" -> initcalls(at, need(args, s, op));
                case "sata_io" -> {
                    YamlNode a = need(args, s, op);
                    a.checkKeys("lba");
                    yield new Steps.Sata(at, Steps.Sata.What.LOCAL_IO, expr(a, "lba", true), null);
                }
                case "blkback_io" -> {
                    YamlNode a = need(args, s, op);
                    a.checkKeys("lba", "read_lba");
                    yield new Steps.Sata(at, Steps.Sata.What.GUEST_IO, expr(a, "lba", true), expr(a, "read_lba", true));
                }
                default -> throw new IllegalStateException(op);
            };
        }

        private YamlNode need(YamlNode args, YamlNode step, String op) {
            if (args == null) {
                throw new InputException(file, step.line(), op, "missing arguments");
            }
            return args;
        }

        private Step task(Step.Ctx at, YamlNode a, YamlNode s) {
            if (a == null) {
                throw new InputException(file, s.line(), "task", "missing arguments (comm, pid, cpu)");
            }
            a.checkKeys("comm", "pid", "cpu");
            String comm = a.has("comm") ? a.get("comm").text() : null;
            if (comm != null && (comm.isEmpty() || comm.length() > 15)) {
                throw error(a.get("comm"), "a task name has 1 to 15 characters (TASK_COMM_LEN), got '" + comm + "'");
            }
            return new Steps.Task(at, comm, expr(a, "pid", false), expr(a, "cpu", false));
        }

        private Step repeat(Step.Ctx at, YamlNode a) {
            a.checkKeys("times", "var", "steps");
            Expr times = expr(a, "times", true);
            String var = "i";
            if (a.has("var")) {
                YamlNode vn = a.get("var");
                var = vn.text();
                if (!var.matches("[A-Za-z_][A-Za-z0-9_]*") || CONSTANTS.contains(var) || vars.containsKey(var)) {
                    throw error(vn, "not a usable variable name: " + var);
                }
            }
            loopVars.push(var);
            try {
                return new Steps.Repeat(at, times, var, steps(a.get("steps")));
            } finally {
                loopVars.pop();
            }
        }

        private Step functionStep(Step.Ctx at, YamlNode a) {
            a.checkKeys("name", "steps");
            return new Steps.Function(at, function(a.get("name")), steps(a.get("steps")));
        }

        private String function(YamlNode n) {
            String f = n.text();
            if (!f.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
                throw error(n, "expected a C function name, got " + f);
            }
            return f;
        }

        private Step buffer(Step.Ctx at, YamlNode a) {
            a.checkKeys("name", "kind", "size", "offset", "zone", "of");
            ScenarioRun.Kind kind = ScenarioRun.Kind.PAGES;
            if (a.has("kind")) {
                kind = enumValue(
                        a.get("kind"), ScenarioRun.Kind.class, "pages, kmalloc, stack, vmalloc, coherent, part");
            }
            Steps.ZonePref zone = Steps.ZonePref.NORMAL;
            if (a.has("zone")) {
                if (kind != ScenarioRun.Kind.PAGES && kind != ScenarioRun.Kind.VMALLOC) {
                    throw error(a.get("zone"), "only pages and vmalloc buffers take a zone");
                }
                zone = enumValue(a.get("zone"), Steps.ZonePref.class, "normal, dma32, dma, lowest");
            }
            if (a.has("offset")
                    && kind != ScenarioRun.Kind.PAGES
                    && kind != ScenarioRun.Kind.PART
                    && kind != ScenarioRun.Kind.VMALLOC) {
                throw error(a.get("offset"), "only pages, vmalloc and part buffers take an offset");
            }
            Expr.Name of = null;
            if (kind == ScenarioRun.Kind.PART) {
                of = name(a, "of", true);
            } else if (a.has("of")) {
                throw error(a.get("of"), "only a part buffer is carved out of another");
            }
            return new Steps.BufferStep(
                    at, name(a, "name", true), kind, expr(a, "size", true), expr(a, "offset", false), zone, of);
        }

        private Step free(Step.Ctx at, YamlNode a) {
            a.checkKeys("buffer", "offset", "size");
            return new Steps.Free(at, name(a, "buffer", true), expr(a, "offset", false), expr(a, "size", false));
        }

        private Step live(Step.Ctx at, YamlNode a) {
            a.checkKeys("buffer", "offset", "len", "what");
            return new Steps.Live(
                    at,
                    name(a, "buffer", true),
                    expr(a, "offset", false),
                    expr(a, "len", true),
                    a.has("what") ? a.get("what").text() : "live data");
        }

        private Steps.Data data(YamlNode a) {
            int given = (a.has("data") ? 1 : 0) + (a.has("fill") ? 1 : 0) + (a.has("from") ? 1 : 0);
            if (given > 1) {
                throw error(a.has("fill") ? a.get("fill") : a.get("from"), "give one of data, fill and from");
            }
            if (a.has("fill")) {
                return new Steps.Data(Steps.Data.Source.FILL, byteValue(a.get("fill")), null);
            }
            if (a.has("from")) {
                return new Steps.Data(Steps.Data.Source.FROM, 0, name(a, "from", true));
            }
            if (a.has("data")) {
                YamlNode d = a.get("data");
                return switch (d.text()) {
                    case "random" -> Steps.Data.RANDOM;
                    case "counter" -> new Steps.Data(Steps.Data.Source.COUNTER, 0, null);
                    default -> throw error(d, "expected random or counter (or use fill: or from:), got " + d.text());
                };
            }
            return Steps.Data.RANDOM;
        }

        private Steps.Expect expect(YamlNode a) {
            int given = (a.has("expect") ? 1 : 0) + (a.has("expect_fill") ? 1 : 0) + (a.has("expect_crc32") ? 1 : 0);
            if (given > 1) {
                throw error(
                        a.has("expect_fill") ? a.get("expect_fill") : a.get("expect_crc32"),
                        "give one of expect, expect_fill and expect_crc32");
            }
            String why = a.has("why") ? a.get("why").text() : null;
            if (given == 0) {
                if (why != null) {
                    throw error(
                            a.get("why"), "explains a failed expectation: give expect, expect_fill or expect_crc32");
                }
                return Steps.Expect.NONE;
            }
            if (a.has("expect_fill")) {
                return new Steps.Expect(null, byteValue(a.get("expect_fill")), -1, why);
            }
            if (a.has("expect_crc32")) {
                YamlNode c = a.get("expect_crc32");
                long v = eval(c);
                if (v < 0 || v > 0xffffffffL) {
                    throw error(c, "expected a 32-bit value, got " + c.text());
                }
                return new Steps.Expect(null, -1, v, why);
            }
            return new Steps.Expect(name(a, "expect", true), -1, -1, why);
        }

        private Step cpuWrite(Step.Ctx at, YamlNode a) {
            a.checkKeys("buffer", "offset", "len", "data", "fill", "from", "save");
            return new Steps.CpuWrite(
                    at,
                    name(a, "buffer", true),
                    expr(a, "offset", false),
                    expr(a, "len", false),
                    data(a),
                    name(a, "save", false));
        }

        private Step cpuRead(Step.Ctx at, YamlNode a) {
            a.checkKeys("buffer", "offset", "len", "expect", "expect_fill", "expect_crc32", "why", "save");
            return new Steps.CpuRead(
                    at,
                    name(a, "buffer", true),
                    expr(a, "offset", false),
                    expr(a, "len", false),
                    expect(a),
                    name(a, "save", false));
        }

        private Step thrash(Step.Ctx at, YamlNode a) {
            a.checkKeys("bytes");
            return new Steps.ThrashCache(at, expr(a, "bytes", true));
        }

        private Step map(Step.Ctx at, YamlNode a) {
            a.checkKeys("buffer", "offset", "len", "direction", "attrs", "api", "as", "check", "on_error");
            boolean page = false;
            if (a.has("api")) {
                YamlNode api = a.get("api");
                page = switch (api.text()) {
                    case "single" -> false;
                    case "page" -> true;
                    default -> throw error(api, "expected single or page (map_sg maps a list), got " + api.text());
                };
            }
            Long attrs = attrs(a);
            return new Steps.Map(
                    at,
                    name(a, "buffer", true),
                    expr(a, "offset", false),
                    expr(a, "len", false),
                    direction(a.get("direction")),
                    attrs == null ? 0 : attrs,
                    page,
                    name(a, "as", false),
                    a.bool("check", true),
                    quiet(a));
        }

        private Step mapSg(Step.Ctx at, YamlNode a) {
            a.checkKeys("as", "entries", "direction", "attrs", "check", "on_error");
            List<Steps.SgEntry> entries = new ArrayList<>();
            YamlNode en = a.get("entries");
            for (YamlNode e : list(en)) {
                if (e.isScalar()) {
                    entries.add(new Steps.SgEntry(nameOf(e), null, null));
                    continue;
                }
                e.checkKeys("buffer", "offset", "len");
                entries.add(
                        new Steps.SgEntry(name(e, "buffer", true), expr(e, "offset", false), expr(e, "len", false)));
            }
            if (entries.isEmpty()) {
                throw error(en, "a scatterlist needs at least one entry");
            }
            Long attrs = attrs(a);
            return new Steps.MapSg(
                    at,
                    name(a, "as", true),
                    entries,
                    direction(a.get("direction")),
                    attrs == null ? 0 : attrs,
                    a.bool("check", true),
                    quiet(a));
        }

        /** {@code on_error: return} (leave the function quietly) rather than {@code fail} (record a failure). */
        private boolean quiet(YamlNode a) {
            YamlNode n = a.opt("on_error");
            if (n == null) {
                return false;
            }
            if (!a.bool("check", true)) {
                throw error(n, "with check: false the driver never learns that the map failed");
            }
            return switch (n.text()) {
                case "fail" -> false;
                case "return" -> true;
                default -> throw error(n, "expected fail or return, got " + n.text());
            };
        }

        private Step unmap(Step.Ctx at, YamlNode a) {
            a.checkKeys("handle", "addr", "len", "direction", "attrs", "api", "nents", "skip_if_error");
            Expr.Name handle = name(a, "handle", false);
            if (handle == null) {
                if (!a.has("addr")) {
                    throw new InputException(file, a.line(), "handle", "missing required field (or give addr)");
                }
                for (String k : new String[] {"len", "direction"}) {
                    if (!a.has(k)) {
                        throw new InputException(
                                file,
                                a.line(),
                                k,
                                "missing required field (an unmap by addr says" + " what the driver passes)");
                    }
                }
            }
            Steps.Unmap.Api api = null;
            if (a.has("api")) {
                api = enumValue(a.get("api"), Steps.Unmap.Api.class, "single, page, sg");
            }
            if (a.has("nents") && api != null && api != Steps.Unmap.Api.SG) {
                throw error(a.get("nents"), "only dma_unmap_sg takes nents");
            }
            return new Steps.Unmap(
                    at,
                    handle,
                    expr(a, "addr", false),
                    expr(a, "len", false),
                    a.has("direction") ? direction(a.get("direction")) : null,
                    attrs(a),
                    api,
                    expr(a, "nents", false),
                    a.bool("skip_if_error", false));
        }

        private Step sync(Step.Ctx at, YamlNode a, boolean forCpu) {
            a.checkKeys("handle", "addr", "offset", "len", "direction", "nents");
            Expr.Name handle = name(a, "handle", false);
            if (handle == null) {
                for (String k : new String[] {"addr", "len", "direction"}) {
                    if (!a.has(k)) {
                        throw new InputException(
                                file, a.line(), k.equals("addr") ? "handle" : k, "missing required field");
                    }
                }
            }
            return new Steps.Sync(
                    at,
                    forCpu,
                    handle,
                    expr(a, "addr", false),
                    expr(a, "offset", false),
                    expr(a, "len", false),
                    a.has("direction") ? direction(a.get("direction")) : null,
                    expr(a, "nents", false));
        }

        private Step deviceAccess(Step.Ctx at, YamlNode a, boolean write) {
            if (write) {
                a.checkKeys("handle", "addr", "segment", "offset", "len", "data", "fill", "from", "save");
            } else {
                a.checkKeys(
                        "handle",
                        "addr",
                        "segment",
                        "offset",
                        "len",
                        "expect",
                        "expect_fill",
                        "expect_crc32",
                        "why",
                        "save");
            }
            Expr.Name handle = name(a, "handle", false);
            if (handle == null && !a.has("addr")) {
                throw new InputException(file, a.line(), "handle", "missing required field (or give addr)");
            }
            if (a.has("segment") && handle == null) {
                throw error(a.get("segment"), "a segment is one of a mapped scatterlist's: give its handle");
            }
            return new Steps.DeviceAccess(
                    at,
                    write,
                    handle,
                    expr(a, "addr", false),
                    expr(a, "segment", false),
                    expr(a, "offset", false),
                    expr(a, "len", false),
                    write ? data(a) : null,
                    write ? Steps.Expect.NONE : expect(a),
                    name(a, "save", false));
        }

        private Step bindDriver(Step.Ctx at, YamlNode a) {
            a.checkKeys("name", "probe", "remove");
            YamlNode n = a.get("name");
            if (!n.text().matches("[A-Za-z0-9_-]+")) {
                throw error(n, "expected a driver name, got " + n.text());
            }
            List<Step> probe = a.has("probe") ? steps(a.get("probe")) : List.of();
            List<Step> remove = a.has("remove") ? steps(a.get("remove")) : List.of();
            return new Steps.BindDriver(at, n.text(), probe, remove);
        }

        private Step initcalls(Step.Ctx at, YamlNode a) {
            List<YamlNode> l = list(a);
            if (l.size() != 1 || !l.get(0).text().equals("sata_sil24")) {
                throw error(a, "the modelled initcalls are [sata_sil24]");
            }
            return new Steps.Sata(at, Steps.Sata.What.INITCALLS, null, null);
        }

        // ---- values

        private List<YamlNode> list(YamlNode n) {
            if (n.isScalar()) {
                return List.of(n);
            }
            if (!n.isList()) {
                throw error(n, "expected a list");
            }
            return n.elements();
        }

        private <E extends Enum<E>> E enumValue(YamlNode n, Class<E> type, String known) {
            String t = n.text();
            try {
                return Enum.valueOf(type, t.toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw error(n, "expected one of " + known + ", got " + t);
            }
        }

        private Direction direction(YamlNode n) {
            String t = n.text();
            return switch (t) {
                case "TO_DEVICE" -> Direction.TO_DEVICE;
                case "FROM_DEVICE" -> Direction.FROM_DEVICE;
                case "BIDIRECTIONAL" -> Direction.BIDIRECTIONAL;
                case "NONE" -> Direction.NONE;
                default -> throw error(
                        n, "expected one of TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL (or NONE, which BUG()s), got " + t);
            };
        }

        private static final Map<String, Long> ATTRS = Map.of(
                "WEAK_ORDERING", DmaAttrs.WEAK_ORDERING,
                "WRITE_COMBINE", DmaAttrs.WRITE_COMBINE,
                "NO_KERNEL_MAPPING", DmaAttrs.NO_KERNEL_MAPPING,
                "SKIP_CPU_SYNC", DmaAttrs.SKIP_CPU_SYNC,
                "FORCE_CONTIGUOUS", DmaAttrs.FORCE_CONTIGUOUS,
                "ALLOC_SINGLE_PAGES", DmaAttrs.ALLOC_SINGLE_PAGES,
                "NO_WARN", DmaAttrs.NO_WARN,
                "PRIVILEGED", DmaAttrs.PRIVILEGED);

        private Long attrs(YamlNode a) {
            YamlNode n = a.opt("attrs");
            if (n == null) {
                return null;
            }
            long v = 0;
            for (YamlNode e : list(n)) {
                Long bit = ATTRS.get(e.text());
                if (bit == null) {
                    throw error(
                            e,
                            "expected DMA attrs among " + String.join(", ", new TreeSet<>(ATTRS.keySet())) + ", got "
                                    + e.text());
                }
                v |= bit;
            }
            return v;
        }

        private int byteValue(YamlNode n) {
            long v = eval(n);
            if (v < 0 || v > 255) {
                throw error(n, "expected a byte (0 to 0xff), got " + n.text());
            }
            return (int) v;
        }

        private long duration(YamlNode n) {
            String t = n.text().trim();
            long unit = 1;
            String num = t;
            for (String[] u : new String[][] {{"ns", "1"}, {"us", "1000"}, {"ms", "1000000"}, {"s", "1000000000"}}) {
                if (t.endsWith(u[0])) {
                    unit = Long.parseLong(u[1]);
                    num = t.substring(0, t.length() - u[0].length()).trim();
                    break;
                }
            }
            try {
                long v = Long.parseLong(num);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                return Math.multiplyExact(v, unit);
            } catch (NumberFormatException | ArithmeticException e) {
                throw error(n, "expected a duration like 500ns, 10us, 2ms or 1s, got " + t);
            }
        }

        /** A constant expression (vars, numbers): evaluated now. */
        private long eval(YamlNode n) {
            Expr e = parseExpr(n);
            try {
                return e.eval(new Expr.Env() {
                    @Override
                    public long variable(String name) {
                        Long v = vars.get(name);
                        if (v == null) {
                            throw new IllegalArgumentException("'" + name + "' is not a constant defined above");
                        }
                        return v;
                    }

                    @Override
                    public long call(String fn, String name, long index) {
                        throw new IllegalArgumentException(fn + "() is not known before the scenario runs");
                    }
                });
            } catch (IllegalArgumentException ex) {
                throw error(n, ex.getMessage());
            }
        }

        private Expr parseExpr(YamlNode n) {
            String t = n.text();
            try {
                return Expr.parse(t);
            } catch (IllegalArgumentException e) {
                throw error(n, e.getMessage());
            }
        }

        /** An expression field; its variables must be in scope. */
        private Expr expr(YamlNode a, String key, boolean required) {
            YamlNode n = required ? a.get(key) : a.opt(key);
            if (n == null) {
                return null;
            }
            Expr e = parseExpr(n);
            for (String v : Expr.variables(e)) {
                if (!loopVars.contains(v) && !vars.containsKey(v) && !CONSTANTS.contains(v)) {
                    throw error(n, "no variable '" + v + "' here (in scope: " + String.join(", ", inScope()) + ")");
                }
            }
            return e;
        }

        private List<String> inScope() {
            List<String> s = new ArrayList<>(loopVars);
            s.addAll(vars.keySet());
            s.addAll(new TreeSet<>(CONSTANTS));
            return s;
        }

        private Expr.Name name(YamlNode a, String key, boolean required) {
            YamlNode n = required ? a.get(key) : a.opt(key);
            return n == null ? null : nameOf(n);
        }

        private Expr.Name nameOf(YamlNode n) {
            Expr.Name name;
            try {
                name = Expr.parseName(n.text());
            } catch (IllegalArgumentException e) {
                throw error(n, e.getMessage());
            }
            // the index's variables must be in scope too
            String t = n.text();
            int br = t.indexOf('[');
            if (br >= 0) {
                try {
                    for (String v : Expr.variables(Expr.parse(t.substring(br + 1, t.lastIndexOf(']'))))) {
                        if (!loopVars.contains(v) && !vars.containsKey(v) && !CONSTANTS.contains(v)) {
                            throw error(
                                    n, "no variable '" + v + "' here (in scope: " + String.join(", ", inScope()) + ")");
                        }
                    }
                } catch (IllegalArgumentException e) {
                    throw error(n, e.getMessage());
                }
            }
            return name;
        }
    }
}
