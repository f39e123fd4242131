package dev.dmalab.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@link Timeline} records, worked out by hand from the slot and IOVA rules of the modelled 6.12 kernel. */
class TimelineTest {
    private static final String NVME = "0000:00:03.0";

    private static Machine boot(String platform, String cmdline) {
        return Machine.boot(
                Platforms.builtIn(platform), KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
    }

    @Test
    void swiotlbAreasBouncedBytesAndLifetimes() {
        Machine m = boot("arm64-virt", "swiotlb=force");
        Device dev = m.device(NVME);
        long a = m.allocKernelPages(0, Zone.NORMAL);
        long b = m.allocKernelPages(1, Zone.NORMAL);
        int nareas = m.swiotlb().defaultMem().defpool().nareas();
        assertThat(nareas).as("arm64-virt has two CPUs, so two areas").isEqualTo(2);
        m.kernel().clock().advanceNs(5_000);
        long t0 = m.kernel().clock().nowNs();
        Timeline t = Timeline.attach(m);

        m.kernel().context().onCpu(0);
        long da = m.dma().mapPageAttrs(dev, a, 0, 4096, Direction.TO_DEVICE, 0);
        m.kernel().clock().advanceNs(3_000);
        m.kernel().context().onCpu(1);
        long db = m.dma().mapPageAttrs(dev, b, 0, 8192, Direction.FROM_DEVICE, 0);
        m.kernel().clock().advanceNs(5_000);
        m.dma().unmapPageAttrs(dev, da, 4096, Direction.TO_DEVICE, 0); // lived 8 us
        m.kernel().clock().advanceNs(15_000);
        m.dma().unmapPageAttrs(dev, db, 8192, Direction.FROM_DEVICE, 0); // lived 20 us
        m.kernel().clock().advanceNs(1_000);
        t.finish();

        assertThat(t.startNs()).as("the axis starts at the first call").isEqualTo(t0);
        assertThat(t.endNs()).isEqualTo(t0 + 24_000);
        // area 0: 2 slots (4 KiB) from t0 to t0+8us; area 1: 4 slots (8 KiB) from t0+3us to t0+23us
        Series area0 = t.swiotlbAreas().get(0);
        Series area1 = t.swiotlbAreas().get(1);
        assertThat(points(area0)).containsExactly(t0, 0L, t0, 2L, t0 + 8_000, 0L);
        assertThat(points(area1)).containsExactly(t0, 0L, t0 + 3_000, 4L, t0 + 23_000, 0L);
        assertThat(area0.max()).isEqualTo(2);
        assertThat(area1.max()).isEqualTo(4);
        // TO_DEVICE copies in at map; FROM_DEVICE copies out at unmap, and 6.12 copies in at its map as well (swiotlb
        // fills the slot whatever the direction, so that a short device write cannot expose stale pool bytes)
        long[] bounced = t.bouncedBytes().get(NVME);
        assertThat(bounced).containsExactly(4096 + 8192, 8192);
        // 8 us is in [8, 16) us: bucket 4; 20 us in [16, 32): bucket 5
        long[] hist = t.lifetimeHistogram().get(NVME);
        assertThat(hist[4]).isEqualTo(1);
        assertThat(hist[5]).isEqualTo(1);
        assertThat(java.util.Arrays.stream(hist).sum()).isEqualTo(2);
        assertThat(t.firstLifetimes())
                .containsExactly(
                        new Timeline.Lifetime(NVME, "page", da, 4096, t0, t0 + 8_000),
                        new Timeline.Lifetime(NVME, "page", db, 8192, t0 + 3_000, t0 + 23_000));
        assertThat(t.liveAtEnd()).isEmpty();
        assertThat(t.mappings()).isEqualTo(2);
        assertThat(t.hasIova()).isFalse();
    }

    @Test
    void bouncesBeforeTheRecordingStartedDoNotCount() {
        Machine m = boot("x86-q35", "swiotlb=force");
        Device dev = m.device(NVME);
        long a = m.allocKernelPages(0, Zone.NORMAL);
        long da = m.dma().mapPageAttrs(dev, a, 0, 4096, Direction.TO_DEVICE, 0);
        m.dma().unmapPageAttrs(dev, da, 4096, Direction.TO_DEVICE, 0);
        Timeline t = Timeline.attach(m).finish();
        assertThat(t.bouncedBytes()).isEmpty();
        assertThat(t.events()).isZero();
    }

    @Test
    void lazyIommuKeepsTheIovaAllocatedUntilTheFlushQueueFlushes() {
        Machine m = boot("x86-q35-vtd-lazy", "");
        Device dev = m.device(NVME);
        long a = m.allocKernelPages(0, Zone.NORMAL);
        Timeline t = Timeline.attach(m);
        long da = m.dma().mapPageAttrs(dev, a, 0, 4096, Direction.TO_DEVICE, 0);
        m.kernel().clock().advanceNs(1_000);
        m.dma().unmapPageAttrs(dev, da, 4096, Direction.TO_DEVICE, 0);
        t.finish();
        assertThat(t.hasIova()).isTrue();
        List<Series> iova = t.iovaDomains();
        assertThat(iova).hasSize(1);
        assertThat(iova.get(0).name()).contains(NVME);
        // one 4 KiB granule, allocated at the map and still held by the tree (queued for invalidation) at the end
        assertThat(iova.get(0).max()).isEqualTo(4096);
        assertThat(iova.get(0).last()).isEqualTo(4096);
        assertThat(t.swiotlbAreas()).isEmpty();
    }

    @Test
    void coherentBuffersAndLiveMappingsAreOpenAtTheEnd() {
        Machine m = boot("x86-q35", "");
        Device dev = m.device(NVME);
        Timeline t = Timeline.attach(m);
        long[] handle = new long[1];
        long va = m.dma().allocAttrs(dev, 8192, handle, Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        long a = m.allocKernelPages(0, Zone.NORMAL);
        m.kernel().clock().advanceNs(2_000);
        long da = m.dma().mapPageAttrs(dev, a, 0, 512, Direction.BIDIRECTIONAL, 0);
        m.kernel().clock().advanceNs(2_000);
        t.finish();
        assertThat(t.liveAtEnd()).containsEntry(NVME, 2L);
        assertThat(t.firstLifetimes())
                .extracting(Timeline.Lifetime::kind, Timeline.Lifetime::endNs, Timeline.Lifetime::dmaAddr)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("coherent", -1L, handle[0]),
                        org.assertj.core.groups.Tuple.tuple("page", -1L, da));
        assertThat(t.lifetimeHistogram()).as("only unmapped streaming mappings").isEmpty();
    }

    @Test
    void bucketsArePowersOfTwoInMicroseconds() {
        assertThat(Timeline.bucket(0)).isZero();
        assertThat(Timeline.bucket(999)).isZero();
        assertThat(Timeline.bucket(1_000)).isEqualTo(1);
        assertThat(Timeline.bucket(1_999)).isEqualTo(1);
        assertThat(Timeline.bucket(2_000)).isEqualTo(2);
        assertThat(Timeline.bucket(1_000_000)).isEqualTo(10); // 1000 us in [512, 1024)
        assertThat(Timeline.bucket(Long.MAX_VALUE)).isEqualTo(Timeline.BUCKETS - 1);
        assertThat(Timeline.bucketLabel(0)).isEqualTo("<1 µs");
        assertThat(Timeline.bucketLabel(1)).isEqualTo("1 µs–2 µs");
        assertThat(Timeline.bucketLabel(11)).isEqualTo("1.024 ms–2.048 ms");
        assertThat(Timeline.bucketLabel(Timeline.BUCKETS - 1)).startsWith("≥");
    }

    private static List<Long> points(Series s) {
        List<Long> out = new java.util.ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            out.add(s.timeNs(i));
            out.add(s.value(i));
        }
        return out;
    }

    /** The same buffer mapped twice before its unmaps: the first unmap ends the older mapping, as dma-debug's does. */
    @Test
    void anUnmapEndsTheOldestOfEqualMappings() {
        Machine m = boot("x86-q35", "");
        Device dev = m.device(NVME);
        Timeline t = Timeline.attach(m);
        long a = m.allocKernelPages(0, Zone.NORMAL);
        long first = m.dma().mapPageAttrs(dev, a, 0, 512, Direction.TO_DEVICE, 0);
        m.kernel().clock().advanceNs(1_000);
        long second = m.dma().mapPageAttrs(dev, a, 0, 512, Direction.TO_DEVICE, 0);
        assertThat(second).isEqualTo(first); // dma-direct: the same address twice
        m.kernel().clock().advanceNs(1_000);
        m.dma().unmapPageAttrs(dev, first, 512, Direction.TO_DEVICE, 0);
        long firstUnmap = m.kernel().clock().nowNs();
        m.kernel().clock().advanceNs(5_000);
        m.dma().unmapPageAttrs(dev, second, 512, Direction.TO_DEVICE, 0);
        long secondUnmap = m.kernel().clock().nowNs();
        t.finish();
        assertThat(t.firstLifetimes())
                .extracting(Timeline.Lifetime::startNs, Timeline.Lifetime::endNs)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(firstUnmap - 2_000, firstUnmap),
                        org.assertj.core.groups.Tuple.tuple(firstUnmap - 1_000, secondUnmap));
        assertThat(t.liveAtEnd()).isEmpty();
    }
}
