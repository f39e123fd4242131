package dev.dmalab.scenario;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.driver.DriverCore;
import dev.dmalab.util.Bits;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The state of one scenario variant running on one device: its named buffers, mappings and saved bytes, the loop
 * variables in scope, and the driver a {@code bind_driver} step bound. Names are per device: each device of a
 * {@code devices: {each: true}} scenario starts afresh.
 */
final class ScenarioRun implements Expr.Env {
    /** A scenario error found at run time, with the field it is about. */
    static final class Bad extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String field;

        Bad(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }

        String field() {
            return field;
        }
    }

    /** Thrown by a step after it recorded a failure that ends the run on this device (a failed map). */
    static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super(null, null, false, false);
        }
    }

    /** What a buffer is. */
    enum Kind {
        PAGES,
        KMALLOC,
        STACK,
        VMALLOC,
        COHERENT,
        PART
    }

    /** A named CPU buffer: kernel virtual address, physical address (of its first byte) and size. */
    record Buf(String name, Kind kind, long va, long phys, long size) {}

    /** What a mapping is, for the unmap and sync it defaults to. */
    enum MapKind {
        SINGLE,
        PAGE,
        SG,
        COHERENT
    }

    /** A named mapping (or coherent allocation): its DMA address and length, direction and attrs. */
    static final class Mapping {
        final String name;
        final MapKind kind;
        final Buf buffer;
        final long addr;
        final long len;
        final Direction dir;
        final long attrs;
        final ScatterList sg;
        final int nents;
        final int ents;

        Mapping(
                String name,
                MapKind kind,
                Buf buffer,
                long addr,
                long len,
                Direction dir,
                long attrs,
                ScatterList sg,
                int nents,
                int ents) {
            this.name = name;
            this.kind = kind;
            this.buffer = buffer;
            this.addr = addr;
            this.len = len;
            this.dir = dir;
            this.attrs = attrs;
            this.sg = sg;
            this.nents = nents;
            this.ents = ents;
        }
    }

    private final Scenario scenario;
    private final String variant;
    private final WorkloadContext ctx;
    private final Device dev;
    private final Map<String, Buf> buffers = new HashMap<>();
    private final Map<String, Mapping> mappings = new HashMap<>();
    private final Map<String, byte[]> saved = new HashMap<>();
    private final Deque<Map<String, Long>> scopes = new ArrayDeque<>();
    /** The driver core of {@code bind_driver} steps, made on first use. */
    DriverCore driverCore;
    /** The driver name the device had before {@code bind_driver}, restored by {@code unbind_driver}. */
    String driverBefore;
    /** The seed's sata_sil24 machine room, once an {@code initcalls} step ran. */
    SataRig sata;

    ScenarioRun(Scenario scenario, String variant, WorkloadContext ctx, Device dev) {
        this.scenario = scenario;
        this.variant = variant;
        this.ctx = ctx;
        this.dev = dev;
    }

    String variant() {
        return variant;
    }

    Scenario scenario() {
        return scenario;
    }

    WorkloadContext ctx() {
        return ctx;
    }

    /** The device the steps run on (null for scenarios that drive the machine's drivers, like the seed boot). */
    Device dev() {
        return dev;
    }

    Device requireDevice(String field) {
        if (dev == null) {
            throw new Bad(field, "this platform has no device to run on");
        }
        return dev;
    }

    // ---- names

    void defineBuffer(Buf b) {
        buffers.put(b.name(), b);
    }

    Buf buffer(String name, String field) {
        Buf b = buffers.get(name);
        if (b == null) {
            throw new Bad(field, "no buffer named '" + name + "' (define it with a buffer step first)");
        }
        return b;
    }

    void removeBuffer(String name) {
        buffers.remove(name);
    }

    void defineMapping(Mapping m) {
        mappings.put(m.name, m);
    }

    Mapping mapping(String name, String field) {
        Mapping m = mappings.get(name);
        if (m == null) {
            throw new Bad(field, "no mapping named '" + name + "' (map it first, or name it with 'as')");
        }
        return m;
    }

    /** The mapping a step's {@code handle} field names, or null when the step gives none. */
    Mapping mappingOrNull(Expr.Name handle) {
        return handle == null ? null : mapping(eval(handle, "handle"), "handle");
    }

    void save(String name, byte[] bytes) {
        saved.put(name, bytes);
    }

    byte[] saved(String name, String field) {
        byte[] b = saved.get(name);
        if (b == null) {
            throw new Bad(
                    field,
                    "no bytes saved as '" + name + "' (a cpu_write, cpu_read, device_write or"
                            + " device_read with 'save: " + name + "' must come first)");
        }
        return b;
    }

    // ---- expressions

    void pushScope(String var, long value) {
        Map<String, Long> s = new HashMap<>();
        s.put(var, value);
        scopes.push(s);
    }

    void setScope(String var, long value) {
        scopes.peek().put(var, value);
    }

    void popScope() {
        scopes.pop();
    }

    long eval(Expr e, String field) {
        try {
            return e.eval(this);
        } catch (IllegalArgumentException ex) {
            throw new Bad(field, ex.getMessage());
        }
    }

    /** An optional field's value: {@code dflt} when the step does not give it. */
    long evalOr(Expr e, String field, long dflt) {
        return e == null ? dflt : eval(e, field);
    }

    String eval(Expr.Name n, String field) {
        try {
            return n.eval(this);
        } catch (IllegalArgumentException ex) {
            throw new Bad(field, ex.getMessage());
        }
    }

    @Override
    public long variable(String name) {
        for (Map<String, Long> s : scopes) {
            Long v = s.get(name);
            if (v != null) {
                return v;
            }
        }
        Long v = scenario.vars().get(name);
        if (v != null) {
            return v;
        }
        var m = ctx.machine();
        return switch (name) {
            case "page_size" -> m.memory().pageSize().bytes();
            case "cache_line" -> m.caches().geometry().lineBytes();
            case "cache_size" -> m.caches().geometry().sizeBytes();
            case "cpus" -> m.kernel().context().cpus();
            case "DMA_MAPPING_ERROR" -> Bits.U64_MAX;
            default -> throw new IllegalArgumentException("no variable '" + name
                    + "' (loop variables, the scenario's vars, page_size, cache_line, cache_size, cpus,"
                    + " DMA_MAPPING_ERROR)");
        };
    }

    @Override
    public long call(String fn, String name, long index) {
        switch (fn) {
            case "phys", "virt" -> {
                Buf b = buffers.get(name);
                if (b == null) {
                    throw new IllegalArgumentException(fn + "(" + name + "): no buffer named '" + name + "'");
                }
                return fn.equals("phys") ? b.phys() : b.va();
            }
            default -> {
                Mapping m = mappings.get(name);
                if (m == null) {
                    throw new IllegalArgumentException(fn + "(" + name + "): no mapping named '" + name + "'");
                }
                if (fn.equals("ents")) {
                    return m.ents;
                }
                if (index >= 0) {
                    if (m.sg == null || index >= m.ents) {
                        throw new IllegalArgumentException(fn + "(" + name + ", " + index + "): "
                                + (m.sg == null ? "not a scatterlist" : "it has " + m.ents + " mapped segments"));
                    }
                    return fn.equals("dma") ? m.sg.dmaAddress((int) index) : m.sg.dmaLength((int) index);
                }
                return fn.equals("dma") ? m.addr : m.len;
            }
        }
    }
}
