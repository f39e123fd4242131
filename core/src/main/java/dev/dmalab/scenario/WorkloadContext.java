package dev.dmalab.scenario;

import dev.dmalab.device.BusMaster;
import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.util.Bits;
import dev.dmalab.util.SeededRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a workload works with: the machine and its DMA API, a seeded random source, the simulated clock and the
 * current task, and the record of failures and counters that becomes the {@link RunResult}.
 */
public final class WorkloadContext {
    /** The time one modelled step takes; workloads advance the clock by it so traces have distinct stamps. */
    public static final long STEP_NS = 1_000;

    private final Machine machine;
    private final SeededRandom random;
    private final List<String> failures = new ArrayList<>();
    private final SortedMap<String, Long> counters = new TreeMap<>();
    /** Per kmalloc size class: the next free object's physical address in the class's current slab page. */
    private final SortedMap<Long, long[]> slabs = new TreeMap<>();

    private String unsupported;

    public WorkloadContext(Machine machine, long seed) {
        this.machine = machine;
        this.random = new SeededRandom(seed);
    }

    public Machine machine() {
        return machine;
    }

    public DmaApi dma() {
        return machine.dma();
    }

    public CpuMemory cpu() {
        return machine.cpu();
    }

    public SeededRandom random() {
        return random;
    }

    /** Runs the next steps as task {@code comm}/{@code pid} on {@code cpu}, one step later in time. */
    public void task(String comm, int pid, int cpu) {
        machine.kernel()
                .context()
                .task(comm, pid)
                .onCpu(cpu % machine.kernel().context().cpus());
        tick();
    }

    /** Advances simulated time by one step. */
    public void tick() {
        machine.kernel().clock().advanceNs(STEP_NS);
    }

    public Device device(String name) {
        return machine.device(name);
    }

    public BusMaster busMaster(Device dev) {
        return machine.busMaster(dev);
    }

    /**
     * A driver buffer of {@code bytes} at {@code offset} into freshly allocated pages, preferring memory from
     * {@code zone} (the allocator falls back to lower zones); returns its kernel virtual (linear-map) address.
     */
    public long kmallocLike(long bytes, long offset, Zone zone) {
        long pageBytes = machine.memory().pageSize().bytes();
        int order = Bits.getOrder(offset + bytes, machine.memory().pageSize().shift());
        long phys = machine.allocKernelPages(order, zone);
        if (offset >= pageBytes << order) {
            throw new IllegalArgumentException("offset beyond the allocation");
        }
        machine.kernel().objects().add(phys + offset, bytes, "buffer");
        return machine.addressSpace().physToVirt(phys) + offset;
    }

    /**
     * {@code kmalloc(size, GFP_KERNEL)}: an object from the size class {@code kmalloc_size_roundup(size)} picks,
     * packed with the class's other objects in slab pages as SLUB packs them, aligned to the class size (and to
     * {@code ARCH_KMALLOC_MINALIGN}: 8 on x86 and on arm64 from 6.5, {@code ARCH_DMA_MINALIGN} elsewhere). Objects
     * of a page or more get their own pages. The object is registered as live data until {@link #kfree}.
     */
    public long kmalloc(long size) {
        long cls = kmallocClass(size);
        long pageBytes = machine.memory().pageSize().bytes();
        long phys;
        if (cls >= pageBytes) {
            phys = machine.allocKernelPages(
                    Bits.getOrder(cls, machine.memory().pageSize().shift()), Zone.NORMAL);
        } else {
            long[] slab = slabs.computeIfAbsent(cls, c -> new long[] {-1});
            if (slab[0] < 0 || (slab[0] & (pageBytes - 1)) + cls > pageBytes || (slab[0] & (pageBytes - 1)) == 0) {
                slab[0] = machine.allocKernelPages(0, Zone.NORMAL);
            }
            phys = slab[0];
            slab[0] += cls;
        }
        machine.kernel().objects().add(phys, size, "kmalloc-" + cls);
        return machine.addressSpace().physToVirt(phys);
    }

    /** {@code kfree}: the object at {@code va} is no longer live data (its memory is not reused). */
    public void kfree(long va) {
        if (!machine.kernel().objects().remove(machine.addressSpace().virtToPhys(va))) {
            throw new IllegalArgumentException("kfree of 0x" + Long.toHexString(va) + ", which is not a live object");
        }
    }

    /** Registers {@code [va, va + size)} as a live object of its own (a struct field, a neighbour), named {@code kind}. */
    public void liveData(long va, long size, String kind) {
        machine.kernel().objects().add(machine.addressSpace().virtToPhys(va), size, kind);
    }

    /**
     * A buffer of {@code len} bytes in the current task's kernel stack (THREAD_SIZE 16 KiB of linear-map pages,
     * allocated for the task on first use): what a driver gets for a local array.
     */
    public long stackBuffer(int len) {
        int pid = machine.kernel().context().pid();
        long threadSize = 16 * 1024;
        if (len <= 0 || len > threadSize / 2) {
            throw new IllegalArgumentException("stack buffer length out of range: " + len);
        }
        var stack = machine.kernel().objects().stackOf(pid);
        if (stack == null) {
            long phys = machine.allocKernelPages(
                    Bits.getOrder(threadSize, machine.memory().pageSize().shift()), Zone.NORMAL);
            machine.kernel().objects().setStack(pid, phys, threadSize);
            stack = machine.kernel().objects().stackOf(pid);
        }
        // locals sit near the top of the stack, which grows down
        return machine.addressSpace().physToVirt(stack.end() - 1024 - Bits.alignUp(len, 16));
    }

    /** The kmalloc size class of {@code size} on this machine. */
    long kmallocClass(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("kmalloc size must be positive: " + size);
        }
        var arch = machine.arch();
        long minAlign = arch.bounceUnalignedKmalloc() ? 8 : Math.max(8, arch.dmaMinAlign());
        long cls = Math.max(minAlign, Bits.roundUpPowerOfTwo(size));
        if (size <= 96 && size > 64 && minAlign <= 32) {
            cls = 96;
        } else if (size <= 192 && size > 128 && minAlign <= 64) {
            cls = 192;
        }
        return cls;
    }

    /** Bytes the CPU reads at a kernel virtual address. */
    public byte[] cpuRead(long va, int len) {
        byte[] b = new byte[len];
        machine.cpu().read(va, b, 0, len);
        return b;
    }

    public void cpuWrite(long va, byte[] data) {
        machine.cpu().write(va, data, 0, data.length);
    }

    /** Random bytes for a buffer. */
    public byte[] pattern(int len) {
        byte[] b = new byte[len];
        random.nextBytes(b);
        return b;
    }

    /** Records that the workload does not apply here, and why (one phrase); the outcome is unsupported. */
    public void unsupported(String why) {
        unsupported = why;
    }

    /** Why the workload did not run, or null. */
    public String unsupportedReason() {
        return unsupported;
    }

    /** Records a failure: one plain sentence naming the device, the buffer and what went wrong. */
    public void fail(String sentence) {
        failures.add(sentence);
    }

    public void count(String counter, long delta) {
        counters.merge(counter, delta, Long::sum);
    }

    public List<String> failures() {
        return List.copyOf(failures);
    }

    SortedMap<String, Long> counters() {
        return counters;
    }

    /** How many bytes of {@code actual} differ from {@code expected}. */
    public static int differing(byte[] expected, byte[] actual) {
        int n = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                n++;
            }
        }
        return n;
    }
}
