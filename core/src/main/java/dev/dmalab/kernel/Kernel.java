package dev.dmalab.kernel;

import dev.dmalab.util.SimClock;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * The running modelled kernel's shared services: version, arch, simulated clock, printk log and the execution
 * context; and the two ways modelled code crashes the kernel on purpose, {@link #deref} and {@link #bug}.
 */
public final class Kernel {
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private final KernelVersion version;
    private final ArchKind arch;
    private final SimClock clock;
    private final Printk printk;
    private final ExecContext context;
    private final String hardwareName;
    private final List<Finding> findings = new ArrayList<>();
    private final DmaPathLog paths = new DmaPathLog();
    private final KernelObjects objects = new KernelObjects();
    /** Driver functions a scenario file names (innermost first): frames no Java method stands for. */
    private final java.util.ArrayDeque<String> namedFrames = new java.util.ArrayDeque<>();

    public Kernel(KernelVersion version, ArchKind arch, int cpus, String hardwareName) {
        this.version = version;
        this.arch = arch;
        this.clock = new SimClock();
        this.context = new ExecContext(cpus);
        this.printk = new Printk(clock, context);
        this.hardwareName = hardwareName;
    }

    public KernelVersion version() {
        return version;
    }

    public boolean has(Feature feature) {
        return version.has(feature);
    }

    public ArchKind arch() {
        return arch;
    }

    public SimClock clock() {
        return clock;
    }

    public Printk printk() {
        return printk;
    }

    public ExecContext context() {
        return context;
    }

    public String hardwareName() {
        return hardwareName;
    }

    /** Live slab objects and task stacks (what else shares a cache line or granule with a mapping). */
    public KernelObjects objects() {
        return objects;
    }

    /** The record of which path served each DMA call (off unless enabled). */
    public DmaPathLog paths() {
        return paths;
    }

    /** Reports a finding (see {@link Finding}); kept in order of discovery. */
    public void finding(Finding f) {
        findings.add(f);
    }

    /** The findings so far, in order. */
    public List<Finding> findings() {
        return java.util.Collections.unmodifiableList(findings);
    }

    /**
     * Models reading through a pointer: returns {@code pointer} if it is not NULL; otherwise the kernel faults at
     * {@code fieldOffset} (the offset of the member read through the NULL pointer) and this throws a {@link
     * KernelOops} whose call trace is the annotated model frames on the current stack.
     */
    public <T> T deref(T pointer, long fieldOffset) {
        if (pointer != null) {
            return pointer;
        }
        throw new KernelOops(report(OopsReport.Kind.NULL_DEREF, fieldOffset, null));
    }

    /** {@code BUG()}: crashes the modelled kernel at {@code site} (a source file such as kernel/dma/mapping.c). */
    public KernelOops bug(String site) {
        throw new KernelOops(report(OopsReport.Kind.BUG, -1, site));
    }

    /**
     * Enters a driver function that no model method stands for (a scenario's {@code function:} step): it is on the
     * call chain, outside every annotated frame, until {@link #leaveFunction}.
     */
    public void enterFunction(String name) {
        namedFrames.push(name);
    }

    /** Leaves the innermost function entered with {@link #enterFunction}. */
    public void leaveFunction() {
        namedFrames.pop();
    }

    /**
     * The kernel functions on the current call chain, innermost first, as a call trace would print them (the
     * annotated model frames, without those the modelled version inlines, then the functions a scenario entered).
     * For checker findings and Oops reports.
     */
    public List<String> callChain() {
        List<String> chain = WALKER.walk(frames -> {
            List<String> names = new ArrayList<>();
            frames.forEach(f -> {
                KernelFunction kf = annotation(f);
                if (kf != null && !inlinedIn(kf, version)) {
                    names.add(kf.value());
                }
            });
            return names;
        });
        chain.addAll(namedFrames);
        return chain;
    }

    private OopsReport report(OopsReport.Kind kind, long fault, String site) {
        List<String> trace = callChain();
        return new OopsReport(
                kind,
                arch,
                fault,
                site,
                context.cpu(),
                context.pid(),
                context.comm(),
                version.release(),
                hardwareName,
                trace,
                version.has(Feature.ARM64_OOPS_EC_HEX));
    }

    private static boolean inlinedIn(KernelFunction kf, KernelVersion version) {
        if (kf.inline()) {
            return true;
        }
        return !kf.inlineBefore().isEmpty()
                && KernelVersion.keyOf(version.name()) < KernelVersion.keyOf(kf.inlineBefore());
    }

    private static KernelFunction annotation(StackWalker.StackFrame frame) {
        Class<?> type = frame.getDeclaringClass();
        Class<?>[] params = frame.getMethodType().parameterArray();
        try {
            Method m = type.getDeclaredMethod(frame.getMethodName(), params);
            return m.getAnnotation(KernelFunction.class);
        } catch (NoSuchMethodException e) {
            return null; // constructors, lambdas and synthetic frames carry no kernel name
        }
    }
}
