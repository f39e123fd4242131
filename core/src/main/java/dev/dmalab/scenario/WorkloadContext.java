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
        return machine.addressSpace().physToVirt(phys) + offset;
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
