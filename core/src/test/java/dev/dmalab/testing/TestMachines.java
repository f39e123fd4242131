package dev.dmalab.testing;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.device.BusMaster;
import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.platform.ProfileLoader;
import java.io.StringReader;

/** Boots machines for tests and reads/writes their memory from the CPU's, the device's and DRAM's points of view. */
public final class TestMachines {
    /**
     * A 32-bit arm board written for the arm_dma_ops tests: 512 MiB of RAM at 0x60000000 (so the linear map is
     * 0xc0000000 + (pa - 0x60000000)), one non-coherent and one coherent DMA master, no ZONE_DMA, no swiotlb.
     */
    public static final String ARM32_YAML = String.join(
            "\n",
            "name: arm32-test",
            "arch: arm",
            "cpus: 2",
            "hardware_name: \"dmalab arm32 test board (DT)\"",
            "kernel: 5.0",
            "memory:",
            "  ram:",
            "    - {start: 0x60000000, size: 512M, name: \"System RAM\"}",
            "  reserved:",
            "    - {start: 0x60100000, size: 0x1000000, name: \"Kernel code and data\"}",
            "  mmio:",
            "    - {start: 0x10000000, size: 0x10000000, name: \"peripherals\"}",
            "cache:",
            "  speculation: next_line",
            "devices:",
            "  - {name: \"10040000.dma\", bus: platform, driver: pl330, dma_mask: 32, coherent: false}",
            "  - {name: \"10080000.cdma\", bus: platform, driver: cdma, dma_mask: 32, coherent: true}",
            "");

    /** The same board built with CONFIG_ARM_LPAE. */
    public static final String ARM32_LPAE_YAML =
            ARM32_YAML.replace("name: arm32-test", "name: arm32-lpae-test").replace("cpus: 2", "cpus: 2\nlpae: true");

    private TestMachines() {}

    public static Machine boot(String platform, KernelVersion version) {
        return Machine.boot(Platforms.builtIn(platform), version, Machine.BootOptions.DEFAULT);
    }

    public static Machine boot(String platform, KernelVersion version, String cmdline) {
        return Machine.boot(Platforms.builtIn(platform), version, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
    }

    public static PlatformProfile profile(String name, String yaml) {
        return ProfileLoader.parse(name + ".yaml", new StringReader(yaml));
    }

    public static Machine bootYaml(String name, String yaml, KernelVersion version, String cmdline) {
        return Machine.boot(profile(name, yaml), version, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
    }

    /** A deterministic, position-dependent byte pattern; different {@code tag}s give different patterns. */
    public static byte[] pattern(int len, int tag) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (tag * 37 + i * 13 + (i >>> 8) * 7 + 1);
        }
        return b;
    }

    /**
     * Asserts two byte arrays are equal, reporting the first differing offset instead of both arrays (which can be
     * megabytes).
     */
    public static void assertBytes(byte[] actual, byte[] expected, String what) {
        if (actual.length != expected.length) {
            throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != expected[i]) {
                throw new AssertionError(String.format(
                        "%s: first difference at offset %d of %d: 0x%02x, expected 0x%02x",
                        what, i, actual.length, actual[i] & 0xff, expected[i] & 0xff));
            }
        }
    }

    /** A buffer of {@code len} copies of {@code value}. */
    public static byte[] filled(int len, int value) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** The CPU stores {@code data} at physical address {@code pa} through the (cacheable) linear map. */
    public static void cpuWritePhys(Machine m, long pa, byte[] data) {
        m.cpu().write(m.addressSpace().physToVirt(pa), data, 0, data.length);
    }

    /** The CPU loads {@code len} bytes at physical address {@code pa} through the linear map. */
    public static byte[] cpuReadPhys(Machine m, long pa, int len) {
        byte[] b = new byte[len];
        m.cpu().read(m.addressSpace().physToVirt(pa), b, 0, len);
        return b;
    }

    /** The CPU loads {@code len} bytes at kernel virtual address {@code va}. */
    public static byte[] cpuRead(Machine m, long va, int len) {
        byte[] b = new byte[len];
        m.cpu().read(va, b, 0, len);
        return b;
    }

    /** The CPU stores {@code data} at kernel virtual address {@code va}. */
    public static void cpuWrite(Machine m, long va, byte[] data) {
        m.cpu().write(va, data, 0, data.length);
    }

    /** What DRAM holds, ignoring every cache. */
    public static byte[] dram(Machine m, long pa, int len) {
        byte[] b = new byte[len];
        m.memory().contents().read(pa, b, 0, len);
        return b;
    }

    /** The device reads {@code len} bytes at bus address {@code dma}. */
    public static byte[] deviceRead(Machine m, Device dev, long dma, int len) {
        byte[] b = new byte[len];
        BusMaster.Status s = busMaster(m, dev).read(dma, b, 0, len);
        if (s != BusMaster.Status.OK) {
            throw new AssertionError("device read at 0x" + Long.toHexString(dma) + " aborted");
        }
        return b;
    }

    /** The device writes {@code data} at bus address {@code dma}. */
    public static void deviceWrite(Machine m, Device dev, long dma, byte[] data) {
        BusMaster.Status s = busMaster(m, dev).write(dma, data, 0, data.length);
        if (s != BusMaster.Status.OK) {
            throw new AssertionError("device write at 0x" + Long.toHexString(dma) + " aborted");
        }
    }

    /** The machine's bus master for {@code dev}, or a new one for a device the platform does not know. */
    public static BusMaster busMaster(Machine m, Device dev) {
        BusMaster bm = m.busMaster(dev);
        return bm != null && bm.device() == dev
                ? bm
                : new BusMaster(dev, m.caches(), m.memory().map());
    }

    /**
     * Evicts every line of every CPU's cache the way real code does: by reading twice the cache's capacity of
     * unrelated memory on each CPU (LRU within each set then writes dirty victims back).
     */
    public static void evictAllCaches(Machine m) {
        CacheSystem c = m.caches();
        if (!c.enabled()) {
            return;
        }
        int bytes = c.geometry().sizeBytes() * 2;
        int order =
                Integer.numberOfTrailingZeros(bytes >>> m.memory().pageSize().shift());
        long scratch = m.allocKernelPages(order, Zone.NORMAL);
        byte[] sink = new byte[bytes];
        int home = m.kernel().context().cpu();
        for (int cpu = 0; cpu < c.cpus(); cpu++) {
            m.kernel().context().onCpu(cpu);
            m.cpu().readPhys(scratch, sink, 0, bytes);
        }
        m.kernel().context().onCpu(home);
        m.memory().pages().free(m.memory().pageSize().pfnDown(scratch), order);
    }
}
