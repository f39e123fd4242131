package dev.dmalab.scenario;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.BusMaster;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.driver.DriverCore;
import dev.dmalab.driver.PciDriver;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.scenario.ScenarioRun.Buf;
import dev.dmalab.scenario.ScenarioRun.Kind;
import dev.dmalab.scenario.ScenarioRun.MapKind;
import dev.dmalab.scenario.ScenarioRun.Mapping;
import dev.dmalab.util.Bits;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The steps of the scenario language, each a small class that holds what its line said (parsed and checked by
 * {@link ScenarioLoader}) and does it against the modelled kernel's API. Every DMA API call goes through {@link
 * DmaApi} exactly as a driver's would; every CPU access through the caches ({@code CpuMemory}); every device
 * access through the device's bus master (and its IOMMU).
 */
final class Steps {
    private Steps() {}

    // ------------------------------------------------------------------ control

    /** {@code task}: the next steps run as this task on this CPU (and one step later in time). */
    static final class Task extends Step {
        final String comm;
        final Expr pid;
        final Expr cpu;

        Task(Ctx at, String comm, Expr pid, Expr cpu) {
            super(at);
            this.comm = comm;
            this.pid = pid;
            this.cpu = cpu;
        }

        @Override
        String op() {
            return "task";
        }

        @Override
        void exec(ScenarioRun r) {
            var c = r.ctx().machine().kernel().context();
            String name = comm == null ? c.comm() : comm;
            int p = pid == null ? c.pid() : (int) r.eval(pid, "pid");
            long n = cpu == null ? c.cpu() : r.eval(cpu, "cpu");
            if (n < 0 || n >= c.cpus()) {
                throw new ScenarioRun.Bad("cpu", "CPU " + n + " does not exist (this platform has " + c.cpus() + ")");
            }
            r.ctx().task(name, p, (int) n);
        }
    }

    /** {@code mark}: a {@code tracing_mark_write} line in the trace; {@code {dev}} becomes the device's name. */
    static final class Mark extends Step {
        final String text;

        Mark(Ctx at, String text) {
            super(at);
            this.text = text;
        }

        @Override
        String op() {
            return "mark";
        }

        @Override
        void exec(ScenarioRun r) {
            r.ctx()
                    .dma()
                    .mark(text.replace("{dev}", r.dev() == null ? "-" : r.dev().name()));
        }
    }

    /** {@code wait}: simulated time passes. */
    static final class Wait extends Step {
        final long ns;

        Wait(Ctx at, long ns) {
            super(at);
            this.ns = ns;
        }

        @Override
        String op() {
            return "wait";
        }

        @Override
        void exec(ScenarioRun r) {
            r.ctx().machine().kernel().clock().advanceNs(ns);
        }
    }

    /** {@code repeat}: the block {@code times} times, with the loop variable counting from 0. */
    static final class Repeat extends Step {
        static final long MAX = 1_000_000;
        final Expr times;
        final String var;
        final List<Step> body;

        Repeat(Ctx at, Expr times, String var, List<Step> body) {
            super(at);
            this.times = times;
            this.var = var;
            this.body = List.copyOf(body);
        }

        @Override
        String op() {
            return "repeat";
        }

        @Override
        void exec(ScenarioRun r) {
            long n = r.eval(times, "times");
            if (n < 0 || n > MAX) {
                throw new ScenarioRun.Bad("times", "expected 0 to " + MAX + " repetitions, got " + n);
            }
            r.pushScope(var, 0);
            try {
                for (long i = 0; i < n; i++) {
                    r.setScope(var, i);
                    runAll(body, r);
                }
            } finally {
                r.popScope();
            }
        }
    }

    /** {@code function}: the block runs inside a named driver function (on call chains and Oops reports). */
    static final class Function extends Step {
        final String name;
        final List<Step> body;

        Function(Ctx at, String name, List<Step> body) {
            super(at);
            this.name = name;
            this.body = List.copyOf(body);
        }

        @Override
        String op() {
            return "function";
        }

        @Override
        void exec(ScenarioRun r) {
            var k = r.ctx().machine().kernel();
            k.enterFunction(name);
            try {
                runAll(body, r);
            } catch (ScenarioRun.Stop stop) {
                // a failed step returned from this function: the caller goes on
            } finally {
                k.leaveFunction();
            }
        }
    }

    // ------------------------------------------------------------------ buffers

    /** Zones a {@code pages} buffer may come from; {@code LOWEST} tries DMA, then DMA32, then NORMAL. */
    enum ZonePref {
        NORMAL,
        DMA32,
        DMA,
        LOWEST
    }

    /** {@code buffer}: a named CPU buffer of one of the kinds a driver has. */
    static final class BufferStep extends Step {
        final Expr.Name name;
        final Kind kind;
        final Expr size;
        final Expr offset;
        final ZonePref zone;
        final Expr.Name of;

        BufferStep(Ctx at, Expr.Name name, Kind kind, Expr size, Expr offset, ZonePref zone, Expr.Name of) {
            super(at);
            this.name = name;
            this.kind = kind;
            this.size = size;
            this.offset = offset;
            this.zone = zone;
            this.of = of;
        }

        @Override
        String op() {
            return "buffer";
        }

        @Override
        void exec(ScenarioRun r) {
            String n = r.eval(name, "name");
            long sz = r.eval(size, "size");
            long off = r.evalOr(offset, "offset", 0);
            if (sz <= 0 || sz > (1L << 30)) {
                throw new ScenarioRun.Bad("size", "expected 1 byte to 1G, got " + sz);
            }
            if (off < 0) {
                throw new ScenarioRun.Bad("offset", "must not be negative, got " + off);
            }
            WorkloadContext ctx = r.ctx();
            Machine m = ctx.machine();
            Buf b =
                    switch (kind) {
                        case PAGES -> {
                            long va = pages(r, sz, off);
                            yield new Buf(n, kind, va, m.addressSpace().virtToPhys(va), sz);
                        }
                        case KMALLOC -> {
                            long va = ctx.kmalloc(sz);
                            yield new Buf(n, kind, va, m.addressSpace().virtToPhys(va), sz);
                        }
                        case STACK -> {
                            if (sz > 8192) {
                                throw new ScenarioRun.Bad("size", "a stack buffer holds at most 8K, got " + sz);
                            }
                            long va = ctx.stackBuffer((int) sz);
                            yield new Buf(n, kind, va, m.addressSpace().virtToPhys(va), sz);
                        }
                        case VMALLOC -> {
                            long lin = pages(r, sz + off, 0);
                            long pa = m.addressSpace().virtToPhys(lin);
                            long va = m.addressSpace().vmapContiguous(pa, sz + off, MemAttr.NORMAL_WB);
                            if (va == 0) {
                                ctx.fail("vmalloc of " + sz + " bytes failed: the vmalloc area is full");
                                throw new ScenarioRun.Stop();
                            }
                            yield new Buf(n, kind, va + off, pa + off, sz);
                        }
                        case COHERENT -> {
                            Device dev = r.requireDevice("kind");
                            long[] handle = new long[1];
                            long va = ctx.dma().allocCoherent(dev, sz, handle, Gfp.GFP_KERNEL);
                            if (va == 0) {
                                ctx.fail(dev.name() + ": dma_alloc_coherent(" + sz + " bytes) for '" + n + "' failed");
                                throw new ScenarioRun.Stop();
                            }
                            r.defineMapping(new Mapping(
                                    n, MapKind.COHERENT, null, handle[0], sz, Direction.BIDIRECTIONAL, 0, null, 0, 0));
                            yield new Buf(n, kind, va, m.addressSpace().virtToPhys(va), sz);
                        }
                        case PART -> {
                            Buf whole = r.buffer(r.eval(of, "of"), "of");
                            if (off + sz > whole.size()) {
                                throw new ScenarioRun.Bad(
                                        "size",
                                        "bytes " + off + "-" + (off + sz) + " lie outside '" + whole.name() + "' ("
                                                + whole.size() + " bytes)");
                            }
                            yield new Buf(n, kind, whole.va() + off, whole.phys() + off, sz);
                        }
                    };
            r.defineBuffer(b);
        }

        private long pages(ScenarioRun r, long sz, long off) {
            WorkloadContext ctx = r.ctx();
            Zone[] order =
                    switch (zone) {
                        case NORMAL -> new Zone[] {Zone.NORMAL};
                        case DMA32 -> new Zone[] {Zone.DMA32};
                        case DMA -> new Zone[] {Zone.DMA};
                        case LOWEST -> new Zone[] {Zone.DMA, Zone.DMA32, Zone.NORMAL};
                    };
            IllegalStateException last = null;
            for (Zone z : order) {
                try {
                    return ctx.kmallocLike(sz, off, z);
                } catch (IllegalStateException e) {
                    last = e;
                }
            }
            ctx.fail("the page allocator could not give " + (sz + off) + " bytes for a buffer: " + last.getMessage());
            throw new ScenarioRun.Stop();
        }
    }

    /** {@code free}: {@code kfree} a kmalloc buffer, {@code dma_free_coherent} a coherent one. */
    static final class Free extends Step {
        final Expr.Name buffer;
        final Expr offset;
        final Expr size;

        Free(Ctx at, Expr.Name buffer, Expr offset, Expr size) {
            super(at);
            this.buffer = buffer;
            this.offset = offset;
            this.size = size;
        }

        @Override
        String op() {
            return "free";
        }

        @Override
        void exec(ScenarioRun r) {
            String n = r.eval(buffer, "buffer");
            Buf b = r.buffer(n, "buffer");
            long off = r.evalOr(offset, "offset", 0);
            switch (b.kind()) {
                case KMALLOC -> r.ctx().kfree(b.va() + off);
                case COHERENT -> {
                    Mapping m = r.mapping(n, "buffer");
                    long sz = size == null ? b.size() : r.eval(size, "size");
                    r.ctx().dma().freeCoherent(r.requireDevice("buffer"), sz, b.va() + off, m.addr);
                }
                default -> throw new ScenarioRun.Bad(
                        "buffer",
                        "only kmalloc and coherent buffers are freed ('" + n + "' is "
                                + b.kind().name().toLowerCase(java.util.Locale.ROOT) + ")");
            }
            r.removeBuffer(n);
        }
    }

    /** {@code live}: bytes of a buffer are live data of their own (a struct field next to a DMA buffer). */
    static final class Live extends Step {
        final Expr.Name buffer;
        final Expr offset;
        final Expr len;
        final String what;

        Live(Ctx at, Expr.Name buffer, Expr offset, Expr len, String what) {
            super(at);
            this.buffer = buffer;
            this.offset = offset;
            this.len = len;
            this.what = what;
        }

        @Override
        String op() {
            return "live";
        }

        @Override
        void exec(ScenarioRun r) {
            Buf b = r.buffer(r.eval(buffer, "buffer"), "buffer");
            long off = r.evalOr(offset, "offset", 0);
            long l = r.eval(len, "len");
            r.ctx().liveData(b.va() + off, l, what);
        }
    }

    // ------------------------------------------------------------------ bytes

    /** Where written bytes come from. */
    record Data(Source source, int fill, Expr.Name from) {
        enum Source {
            RANDOM,
            COUNTER,
            FILL,
            FROM
        }

        static final Data RANDOM = new Data(Source.RANDOM, 0, null);

        byte[] bytes(ScenarioRun r, int len) {
            byte[] b = new byte[len];
            switch (source) {
                case RANDOM -> r.ctx().random().nextBytes(b);
                case COUNTER -> {
                    for (int i = 0; i < len; i++) {
                        b[i] = (byte) i;
                    }
                }
                case FILL -> Arrays.fill(b, (byte) fill);
                case FROM -> {
                    byte[] src = r.saved(r.eval(from, "from"), "from");
                    if (src.length < len) {
                        throw new ScenarioRun.Bad(
                                "from", "'" + from.text() + "' holds " + src.length + " bytes, " + len + " needed");
                    }
                    System.arraycopy(src, 0, b, 0, len);
                }
            }
            return b;
        }
    }

    /** What bytes read must be: a saved name, a fill byte, or a CRC-32. */
    record Expect(Expr.Name name, int fill, long crc32, String why) {
        static final Expect NONE = new Expect(null, -1, -1, null);

        boolean any() {
            return name != null || fill >= 0 || crc32 >= 0;
        }

        /**
         * Compares; returns the description of a mismatch ("N of M bytes of 'rx' wrong (expected ...)"), or null.
         * Counts the bytes checked.
         */
        String check(ScenarioRun r, byte[] seen) {
            if (!any()) {
                return null;
            }
            r.ctx().count("bytes_checked", seen.length);
            if (crc32 >= 0) {
                CRC32 c = new CRC32();
                c.update(seen);
                return c.getValue() == crc32
                        ? null
                        : "bytes with CRC-32 0x" + Long.toHexString(c.getValue()) + " (expected 0x"
                                + Long.toHexString(crc32) + ")";
            }
            byte[] want;
            String what;
            if (name != null) {
                String n = r.eval(name, "expect");
                byte[] src = r.saved(n, "expect");
                if (src.length < seen.length) {
                    throw new ScenarioRun.Bad(
                            "expect", "'" + n + "' holds " + src.length + " bytes, " + seen.length + " read");
                }
                want = Arrays.copyOf(src, seen.length);
                what = "the bytes saved as '" + n + "'";
            } else {
                want = new byte[seen.length];
                Arrays.fill(want, (byte) fill);
                what = "0x" + Integer.toHexString(fill) + " everywhere";
            }
            int bad = WorkloadContext.differing(want, seen);
            if (bad == 0) {
                return null;
            }
            r.ctx().count("stale_bytes", bad);
            return bad + " of " + seen.length + " bytes wrong (expected " + what + ")";
        }
    }

    /** {@code cpu_write}: the CPU stores bytes into a buffer (through its caches). */
    static final class CpuWrite extends Step {
        final Expr.Name buffer;
        final Expr offset;
        final Expr len;
        final Data data;
        final Expr.Name save;

        CpuWrite(Ctx at, Expr.Name buffer, Expr offset, Expr len, Data data, Expr.Name save) {
            super(at);
            this.buffer = buffer;
            this.offset = offset;
            this.len = len;
            this.data = data;
            this.save = save;
        }

        @Override
        String op() {
            return "cpu_write";
        }

        @Override
        void exec(ScenarioRun r) {
            Buf b = r.buffer(r.eval(buffer, "buffer"), "buffer");
            long off = r.evalOr(offset, "offset", 0);
            int l = span(r, b, off, len);
            byte[] bytes = data.bytes(r, l);
            r.ctx().cpuWrite(b.va() + off, bytes);
            if (save != null) {
                r.save(r.eval(save, "save"), bytes);
            }
        }
    }

    /** The length of an access to {@code b} at {@code off}: {@code len}, or the rest of the buffer; checked. */
    static int span(ScenarioRun r, Buf b, long off, Expr len) {
        long l = len == null ? b.size() - off : r.eval(len, "len");
        if (off < 0 || l <= 0 || off + l > b.size() || l > (64L << 20)) {
            throw new ScenarioRun.Bad(
                    len == null ? "offset" : "len",
                    "bytes " + off + "-" + (off + l) + " are not inside '" + b.name() + "' (" + b.size() + " bytes)");
        }
        return (int) l;
    }

    /** {@code cpu_read}: the CPU loads bytes from a buffer and checks them. */
    static final class CpuRead extends Step {
        final Expr.Name buffer;
        final Expr offset;
        final Expr len;
        final Expect expect;
        final Expr.Name save;

        CpuRead(Ctx at, Expr.Name buffer, Expr offset, Expr len, Expect expect, Expr.Name save) {
            super(at);
            this.buffer = buffer;
            this.offset = offset;
            this.len = len;
            this.expect = expect;
            this.save = save;
        }

        @Override
        String op() {
            return "cpu_read";
        }

        @Override
        void exec(ScenarioRun r) {
            Buf b = r.buffer(r.eval(buffer, "buffer"), "buffer");
            long off = r.evalOr(offset, "offset", 0);
            int l = span(r, b, off, len);
            byte[] seen = r.ctx().cpuRead(b.va() + off, l);
            if (save != null) {
                r.save(r.eval(save, "save"), seen);
            }
            String bad = expect.check(r, seen);
            if (bad != null) {
                r.ctx()
                        .fail(who(r) + "the CPU read from '" + b.name() + "' " + bad
                                + (expect.why() == null ? "" : "; " + expect.why()));
            }
        }
    }

    private static String who(ScenarioRun r) {
        return r.dev() == null ? "" : r.dev().name() + ": ";
    }

    /** {@code thrash_cache}: other work streams through the CPU caches and evicts what they held. */
    static final class ThrashCache extends Step {
        final Expr bytes;

        ThrashCache(Ctx at, Expr bytes) {
            super(at);
            this.bytes = bytes;
        }

        @Override
        String op() {
            return "thrash_cache";
        }

        @Override
        void exec(ScenarioRun r) {
            long n = r.eval(bytes, "bytes");
            if (n <= 0 || n > (64L << 20)) {
                throw new ScenarioRun.Bad("bytes", "expected 1 byte to 64M, got " + n);
            }
            long scratch = r.ctx().kmallocLike(n, 0, Zone.NORMAL);
            r.ctx().cpuRead(scratch, (int) n);
        }
    }

    // ------------------------------------------------------------------ the DMA API

    /** {@code map}: {@code dma_map_single} of a buffer's virtual address, or {@code dma_map_page} of its page. */
    static final class Map extends Step {
        final Expr.Name buffer;
        final Expr offset;
        final Expr len;
        final Direction dir;
        final long attrs;
        final boolean page;
        final Expr.Name as;
        final boolean check;
        final boolean quiet;

        Map(
                Ctx at,
                Expr.Name buffer,
                Expr offset,
                Expr len,
                Direction dir,
                long attrs,
                boolean page,
                Expr.Name as,
                boolean check,
                boolean quiet) {
            super(at);
            this.buffer = buffer;
            this.offset = offset;
            this.len = len;
            this.dir = dir;
            this.attrs = attrs;
            this.page = page;
            this.as = as;
            this.check = check;
            this.quiet = quiet;
        }

        @Override
        String op() {
            return "map";
        }

        @Override
        void exec(ScenarioRun r) {
            Device dev = r.requireDevice("buffer");
            Buf b = r.buffer(r.eval(buffer, "buffer"), "buffer");
            long off = r.evalOr(offset, "offset", 0);
            int l = span(r, b, off, len);
            DmaApi dma = r.ctx().dma();
            long addr;
            if (page) {
                long pageBytes = r.ctx().machine().memory().pageSize().bytes();
                long pa = b.phys() + off;
                addr = dma.mapPageAttrs(dev, pa & -pageBytes, pa & (pageBytes - 1), l, dir, attrs);
            } else {
                addr = dma.mapSingleAttrs(dev, b.va() + off, l, dir, attrs);
            }
            String n = as == null ? b.name() : r.eval(as, "as");
            if (check && dma.mappingError(dev, addr) != 0) {
                if (quiet) {
                    throw new ScenarioRun.Stop();
                }
                r.ctx()
                        .fail(dev.name() + ": dma_map_" + (page ? "page" : "single") + "(" + l + " bytes, "
                                + dir.kernelName() + ") of '" + b.name() + "' failed");
                throw new ScenarioRun.Stop();
            }
            r.defineMapping(new Mapping(n, page ? MapKind.PAGE : MapKind.SINGLE, b, addr, l, dir, attrs, null, 0, 0));
        }
    }

    /** One entry of a {@code map_sg} list. */
    record SgEntry(Expr.Name buffer, Expr offset, Expr len) {}

    /** {@code map_sg}: a scatterlist over buffers, mapped with {@code dma_map_sg}. */
    static final class MapSg extends Step {
        final Expr.Name as;
        final List<SgEntry> entries;
        final Direction dir;
        final long attrs;
        final boolean check;
        final boolean quiet;

        MapSg(Ctx at, Expr.Name as, List<SgEntry> entries, Direction dir, long attrs, boolean check, boolean quiet) {
            super(at);
            this.as = as;
            this.entries = List.copyOf(entries);
            this.dir = dir;
            this.attrs = attrs;
            this.check = check;
            this.quiet = quiet;
        }

        @Override
        String op() {
            return "map_sg";
        }

        @Override
        void exec(ScenarioRun r) {
            Device dev = r.requireDevice("as");
            long pageBytes = r.ctx().machine().memory().pageSize().bytes();
            ScatterList sg = new ScatterList(entries.size());
            long total = 0;
            for (SgEntry e : entries) {
                Buf b = r.buffer(r.eval(e.buffer(), "buffer"), "buffer");
                long off = r.evalOr(e.offset(), "offset", 0);
                int l = span(r, b, off, e.len());
                sg.addPhys(b.phys() + off, l, pageBytes);
                total += l;
            }
            int nents = sg.nents();
            int ents = r.ctx().dma().mapSgAttrs(dev, sg, nents, dir, attrs);
            String n = r.eval(as, "as");
            if (check && ents <= 0) {
                if (quiet) {
                    throw new ScenarioRun.Stop();
                }
                r.ctx()
                        .fail(dev.name() + ": dma_map_sg(" + nents + " entries, " + dir.kernelName() + ") of '" + n
                                + "' failed");
                throw new ScenarioRun.Stop();
            }
            long addr = ents > 0 ? sg.dmaAddress(0) : Bits.U64_MAX;
            r.defineMapping(new Mapping(n, MapKind.SG, null, addr, total, dir, attrs, sg, nents, Math.max(ents, 0)));
        }
    }

    /** The DMA address an unmap, sync or device access uses: {@code addr}, or the mapping's (segment's). */
    private static long address(ScenarioRun r, Mapping m, Expr addr) {
        return addr != null ? r.eval(addr, "addr") : m.kind == MapKind.SG ? m.sg.dmaAddress(0) : m.addr;
    }

    /** {@code unmap}: the unmap call that matches the mapping, or the one the fields say. */
    static final class Unmap extends Step {
        enum Api {
            SINGLE,
            PAGE,
            SG
        }

        final Expr.Name handle;
        final Expr addr;
        final Expr len;
        final Direction dir;
        final Long attrs;
        final Api api;
        final Expr nents;
        final boolean skipIfError;

        Unmap(
                Ctx at,
                Expr.Name handle,
                Expr addr,
                Expr len,
                Direction dir,
                Long attrs,
                Api api,
                Expr nents,
                boolean skipIfError) {
            super(at);
            this.handle = handle;
            this.addr = addr;
            this.len = len;
            this.dir = dir;
            this.attrs = attrs;
            this.api = api;
            this.nents = nents;
            this.skipIfError = skipIfError;
        }

        @Override
        String op() {
            return "unmap";
        }

        @Override
        void exec(ScenarioRun r) {
            Device dev = r.requireDevice("handle");
            Mapping m = r.mappingOrNull(handle);
            if (m != null && m.kind == MapKind.COHERENT) {
                throw new ScenarioRun.Bad("handle", "'" + m.name + "' is coherent memory: release it with free");
            }
            Api how = api != null
                    ? api
                    : m == null
                            ? Api.SINGLE
                            : m.kind == MapKind.SG ? Api.SG : m.kind == MapKind.PAGE ? Api.PAGE : Api.SINGLE;
            Direction d = dir != null ? dir : m.dir;
            long at = attrs == null ? 0 : attrs;
            DmaApi dma = r.ctx().dma();
            if (how == Api.SG) {
                if (m == null || m.sg == null) {
                    throw new ScenarioRun.Bad("api", "dma_unmap_sg needs the handle of a map_sg");
                }
                int n = nents == null ? m.nents : (int) r.eval(nents, "nents");
                dma.unmapSgAttrs(dev, m.sg, n, d, at);
                return;
            }
            long a = address(r, m, addr);
            long l = len != null ? r.eval(len, "len") : m.kind == MapKind.SG ? m.sg.dmaLength(0) : m.len;
            if (skipIfError && dma.mappingError(dev, a) != 0) {
                return;
            }
            if (how == Api.PAGE) {
                dma.unmapPageAttrs(dev, a, l, d, at);
            } else {
                dma.unmapSingleAttrs(dev, a, l, d, at);
            }
        }
    }

    /** {@code sync_for_cpu} and {@code sync_for_device}: single or sg, as the mapping is. */
    static final class Sync extends Step {
        final boolean forCpu;
        final Expr.Name handle;
        final Expr addr;
        final Expr offset;
        final Expr len;
        final Direction dir;
        final Expr nents;

        Sync(Ctx at, boolean forCpu, Expr.Name handle, Expr addr, Expr offset, Expr len, Direction dir, Expr nents) {
            super(at);
            this.forCpu = forCpu;
            this.handle = handle;
            this.addr = addr;
            this.offset = offset;
            this.len = len;
            this.dir = dir;
            this.nents = nents;
        }

        @Override
        String op() {
            return forCpu ? "sync_for_cpu" : "sync_for_device";
        }

        @Override
        void exec(ScenarioRun r) {
            Device dev = r.requireDevice("handle");
            Mapping m = r.mappingOrNull(handle);
            Direction d = dir != null ? dir : m.dir;
            DmaApi dma = r.ctx().dma();
            if (m != null && m.kind == MapKind.SG && addr == null) {
                int n = nents == null ? m.nents : (int) r.eval(nents, "nents");
                if (forCpu) {
                    dma.syncSgForCpu(dev, m.sg, n, d);
                } else {
                    dma.syncSgForDevice(dev, m.sg, n, d);
                }
                return;
            }
            long off = r.evalOr(offset, "offset", 0);
            long a = address(r, m, addr) + off;
            long l = len != null ? r.eval(len, "len") : m.len - off;
            if (forCpu) {
                dma.syncSingleForCpu(dev, a, l, d);
            } else {
                dma.syncSingleForDevice(dev, a, l, d);
            }
        }
    }

    // ------------------------------------------------------------------ the device

    /** {@code device_read} and {@code device_write}: the device's bus master reads or writes memory. */
    static final class DeviceAccess extends Step {
        final boolean write;
        final Expr.Name handle;
        final Expr addr;
        final Expr segment;
        final Expr offset;
        final Expr len;
        final Data data;
        final Expect expect;
        final Expr.Name save;

        DeviceAccess(
                Ctx at,
                boolean write,
                Expr.Name handle,
                Expr addr,
                Expr segment,
                Expr offset,
                Expr len,
                Data data,
                Expect expect,
                Expr.Name save) {
            super(at);
            this.write = write;
            this.handle = handle;
            this.addr = addr;
            this.segment = segment;
            this.offset = offset;
            this.len = len;
            this.data = data;
            this.expect = expect;
            this.save = save;
        }

        @Override
        String op() {
            return write ? "device_write" : "device_read";
        }

        @Override
        void exec(ScenarioRun r) {
            Device dev = r.requireDevice("handle");
            Mapping m = r.mappingOrNull(handle);
            long off = r.evalOr(offset, "offset", 0);
            long[] starts;
            int[] lens;
            if (m != null && m.kind == MapKind.SG && addr == null && segment == null) {
                starts = new long[m.ents];
                lens = new int[m.ents];
                for (int i = 0; i < m.ents; i++) {
                    starts[i] = m.sg.dmaAddress(i);
                    lens[i] = m.sg.dmaLength(i);
                }
                if (off != 0 || len != null) {
                    throw new ScenarioRun.Bad(
                            "offset", "a whole scatterlist is accessed as mapped; pick a segment for offset or len");
                }
            } else {
                long base;
                long whole;
                if (addr != null) {
                    base = r.eval(addr, "addr");
                    whole = -1;
                } else if (segment != null) {
                    long s = r.eval(segment, "segment");
                    if (m.sg == null || s < 0 || s >= m.ents) {
                        throw new ScenarioRun.Bad(
                                "segment",
                                m.sg == null
                                        ? "'" + m.name + "' is not a scatterlist"
                                        : "'" + m.name + "' has " + m.ents + " mapped segments, not " + (s + 1));
                    }
                    base = m.sg.dmaAddress((int) s);
                    whole = m.sg.dmaLength((int) s);
                } else {
                    base = m.addr;
                    whole = m.len;
                }
                if (len == null && whole < 0) {
                    throw new ScenarioRun.Bad("len", "a device access at an address needs a len");
                }
                long l = len != null ? r.eval(len, "len") : whole - off;
                if (l <= 0 || l > (64L << 20)) {
                    throw new ScenarioRun.Bad("len", "expected 1 byte to 64M, got " + l);
                }
                starts = new long[] {base + off};
                lens = new int[] {(int) l};
            }
            int total = 0;
            for (int l : lens) {
                total += l;
            }
            BusMaster bus = r.ctx().busMaster(dev);
            byte[] bytes = write ? data.bytes(r, total) : new byte[total];
            r.ctx().tick();
            int pos = 0;
            for (int i = 0; i < starts.length; i++) {
                BusMaster.Status st =
                        write ? bus.write(starts[i], bytes, pos, lens[i]) : bus.read(starts[i], bytes, pos, lens[i]);
                if (st != BusMaster.Status.OK) {
                    r.ctx()
                            .fail(dev.name() + ": the device's " + (write ? "write of " : "read of ") + lens[i]
                                    + " bytes at bus address " + Bits.hex0x(starts[i]) + " failed (" + st + ")");
                }
                pos += lens[i];
            }
            r.ctx().tick();
            if (save != null) {
                r.save(r.eval(save, "save"), bytes);
            }
            if (!write) {
                String bad = expect.check(r, bytes);
                if (bad != null) {
                    r.ctx()
                            .fail(dev.name() + ": the device read from "
                                    + (m != null ? "'" + m.name + "'" : "bus address " + Bits.hex0x(starts[0])) + " "
                                    + bad
                                    + (expect.why() == null ? "" : "; " + expect.why()));
                }
            }
        }
    }

    // ------------------------------------------------------------------ drivers

    /**
     * {@code bind_driver}: registers a PCI driver that claims the device; the driver core probes it, which runs
     * the {@code probe} steps; {@code unbind_driver} releases it, which runs {@code remove}, then devres, then the
     * unbind notification (where dma-debug reports leaks).
     */
    static final class BindDriver extends Step {
        final String name;
        final List<Step> probe;
        final List<Step> remove;

        BindDriver(Ctx at, String name, List<Step> probe, List<Step> remove) {
            super(at);
            this.name = name;
            this.probe = List.copyOf(probe);
            this.remove = List.copyOf(remove);
        }

        @Override
        String op() {
            return "bind_driver";
        }

        @Override
        void exec(ScenarioRun r) {
            Device dev = r.requireDevice("name");
            Machine m = r.ctx().machine();
            if (r.driverCore != null) {
                throw new ScenarioRun.Bad("name", "a driver is already bound by this scenario (unbind_driver first)");
            }
            r.driverCore = new DriverCore(m.kernel(), m.dma(), List.of(dev));
            r.driverBefore = dev.driverName();
            boolean[] stopped = new boolean[1];
            PciDriver drv = new PciDriver(name) {
                @Override
                public boolean matches(Device d) {
                    return d == dev;
                }

                @Override
                public int probe(Device d) {
                    try {
                        runAll(probe, r);
                        return 0;
                    } catch (ScenarioRun.Stop s) {
                        stopped[0] = true;
                        return -12; // -ENOMEM: the probe's error path
                    }
                }

                @Override
                public void remove(Device d) {
                    runAll(remove, r);
                }
            };
            r.driverCore.pciRegisterDriver(drv);
            if (stopped[0]) {
                throw new ScenarioRun.Stop();
            }
        }
    }

    /** {@code unbind_driver}: see {@link BindDriver}. */
    static final class UnbindDriver extends Step {
        UnbindDriver(Ctx at) {
            super(at);
        }

        @Override
        String op() {
            return "unbind_driver";
        }

        @Override
        void exec(ScenarioRun r) {
            if (r.driverCore == null) {
                throw new ScenarioRun.Bad(null, "no driver was bound by this scenario (bind_driver first)");
            }
            Device dev = r.dev();
            r.driverCore.releaseDriver(dev);
            dev.setDriverName(r.driverBefore);
            r.driverCore = null;
        }
    }

    /**
     * {@code initcalls}, {@code sata_io} and {@code blkback_io}: the seed's boot with the modelled {@code
     * sata_sil24} driver (see {@link SataRig}).
     */
    static final class Sata extends Step {
        enum What {
            INITCALLS,
            LOCAL_IO,
            GUEST_IO
        }

        final What what;
        final Expr lba;
        final Expr readLba;

        Sata(Ctx at, What what, Expr lba, Expr readLba) {
            super(at);
            this.what = what;
            this.lba = lba;
            this.readLba = readLba;
        }

        @Override
        String op() {
            return switch (what) {
                case INITCALLS -> "initcalls";
                case LOCAL_IO -> "sata_io";
                case GUEST_IO -> "blkback_io";
            };
        }

        @Override
        void exec(ScenarioRun r) {
            WorkloadContext ctx = r.ctx();
            if (what == What.INITCALLS) {
                if (r.sata != null) {
                    throw new ScenarioRun.Bad(null, "the initcalls have run already");
                }
                r.sata = new SataRig(ctx);
                r.sata.boot();
                return;
            }
            if (r.sata == null) {
                throw new ScenarioRun.Bad(null, "no driver has probed yet: run 'initcalls: [sata_sil24]' first");
            }
            long l = r.eval(lba, "lba");
            if (l < 0 || l >= SataRig.DISK_SECTORS - 16) {
                throw new ScenarioRun.Bad("lba", "the modelled disk has " + SataRig.DISK_SECTORS + " sectors");
            }
            if (what == What.LOCAL_IO) {
                r.sata.localIo(l);
            } else {
                long rl = r.eval(readLba, "read_lba");
                if (rl < 0 || rl >= SataRig.DISK_SECTORS - 16) {
                    throw new ScenarioRun.Bad("read_lba", "the modelled disk has " + SataRig.DISK_SECTORS + " sectors");
                }
                r.sata.guestIo(l, rl);
            }
        }
    }
}
