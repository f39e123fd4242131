package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.trace.FtraceParser;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The replay's plumbing on small hand-written traces whose right answers follow from the kernel's rules. */
class TraceReplayTest {
    static final String P = "          dd-1     [000] .....    1.%06d: ";

    static String line(int us, String event) {
        return String.format(P, us) + event + "\n";
    }

    static TraceReplay run(String platform, String whatIf, String trace, boolean oneStep) {
        PlatformProfile p = Platforms.builtIn(platform);
        ReplaySetup s = ReplaySetup.create(p, KernelVersion.V6_12, null, null, null, null, whatIf, null);
        Machine a = s.boot();
        Machine b = oneStep ? s.boot() : null;
        try (FtraceParser parser = new FtraceParser("t.txt", new StringReader(trace), true)) {
            return new TraceReplay("t.txt", parser, a, b).run();
        }
    }

    @Test
    void directMappingsAreThePhysicalAddressAndUnmapsAndNullFreesAreBookkept() {
        String t = line(1, "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=123400 size=4096 phys_addr=123400 attrs=")
                + line(2, "dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=123400 size=4096 attrs=")
                + line(3, "dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=555000 size=4096 attrs=")
                + line(
                        4,
                        "dma_alloc: 0000:00:02.0 dir=BIDIRECTIONAL dma_addr=e000000 size=8192"
                                + " virt_addr=ffff88800e000000 flags=GFP_KERNEL attrs=")
                + line(
                        5,
                        "dma_free: 0000:00:02.0 dir=BIDIRECTIONAL dma_addr=0 size=4096 virt_addr=0000000000000000 attrs=")
                + line(
                        6,
                        "dma_free: 0000:00:02.0 dir=BIDIRECTIONAL dma_addr=f000000 size=4096"
                                + " virt_addr=ffff88800f000000 attrs=");
        TraceReplay r = run("x86-q35", "", t, true);
        assertThat(r.streamingMappings()).isEqualTo(1);
        assertThat(r.exact()).isEqualTo(1);
        assertThat(r.model().unmatchedUnmaps())
                .as("line 3 unmaps what was never mapped")
                .isEqualTo(1);
        assertThat(r.model().nullFrees()).isEqualTo(1);
        assertThat(r.model().freesWithoutAlloc()).isEqualTo(1);
        assertThat(r.model().coherentLiveByDevice()).containsEntry("0000:00:02.0", 1L);
        assertThat(r.model().liveAtEndByDevice()).isEmpty();
    }

    @Test
    void aBounceIsAllocatedAtItsBouncedLineSoAnInterruptUnmapBeforeTheMapLineDoesNotFreeItsSlot() {
        // Force-bounced 1-slot maps in a one-area pool (cursor-based). Kernel order: A bounced+mapped at slot 0;
        // B bounced (slot 1 searched now); an interrupt unmaps A (slot 0 free); B's map line reports slot 1; C then
        // takes slot 2 (the cursor is past 1), not 0.
        String base = "79800000";
        String t = line(
                        1,
                        "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=100000 size=512 FORCE")
                + line(
                        2,
                        "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=" + base
                                + " size=512 phys_addr=100000 attrs=")
                + line(
                        3,
                        "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=200000 size=512 FORCE")
                + line(4, "dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=" + base + " size=512 attrs=")
                + line(5, "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79800800 size=512 phys_addr=200000 attrs=")
                + line(
                        6,
                        "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=300000 size=512 FORCE")
                + line(
                        7,
                        "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79801000 size=512 phys_addr=300000 attrs=");
        TraceReplay r = run("x86-q35", "swiotlb=force", t, true);
        Machine m = r.model().machine();
        assertThat(m.swiotlb().defaultMem().defpool().start())
                .as("the profile's placement of the 64 MiB pool")
                .isEqualTo(0x79800000L);
        assertThat(r.mismatches()).isEmpty();
        assertThat(r.exact()).isEqualTo(3);
        assertThat(r.model().peakSwiotlbSlots()).isEqualTo(2);
    }

    @Test
    void aMissOnAnAddressTheTraceStillHoldsIsAnInversionAndOneStepAdoptsTheKernelsSlot() {
        // The kernel's line 3 reports slot 0 while the trace still holds slot 0 (its unmap is traced at line 4, after
        // the map event): the unmap really ran first, in an interrupt between the free and its event.
        String t = line(
                        1,
                        "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=100000 size=512 FORCE")
                + line(2, "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79800000 size=512 phys_addr=100000 attrs=")
                + line(3, "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79800000 size=512 phys_addr=200000 attrs=")
                + line(4, "dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79800000 size=512 attrs=")
                + line(5, "dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79800000 size=512 attrs=");
        TraceReplay r = run("x86-q35", "swiotlb=force", t, true);
        assertThat(r.streamingMappings()).isEqualTo(2);
        assertThat(r.exact()).isEqualTo(1);
        assertThat(r.inversions()).isEqualTo(1);
        assertThat(r.mismatches()).singleElement().satisfies(mm -> {
            assertThat(mm.line()).isEqualTo(3);
            assertThat(mm.event()).isEqualTo("dma_map_page (inversion)");
            assertThat(mm.kernel()).isEqualTo("0x79800000");
            assertThat(mm.model()).isEqualTo("0x79800800");
            assertThat(mm.context()).hasSize(3).last().asString().contains("phys_addr=200000");
        });
        assertThat(r.oneStepModel().adoptFailures())
                .as("slot 0 is still taken in the one-step model: it cannot adopt it")
                .isEqualTo(1);
        assertThat(r.model().machine().swiotlb().defaultMem().used()).isZero();
    }

    @Test
    void oneStepAdoptionTakesTheKernelsSlotsAndMovesTheCursorAsTheKernelDid() {
        // The kernel put the first bounce at slot 4 (say, a pool already in use when tracing started). Open-loop
        // keeps choosing from 0 and misses both; one-step adopts slot 4, so the cursor is at 5 and it predicts the
        // second one.
        String t = line(
                        1,
                        "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=100000 size=512 FORCE")
                + line(2, "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79802000 size=512 phys_addr=100000 attrs=")
                + line(
                        3,
                        "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=200000 size=512 FORCE")
                + line(
                        4,
                        "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=79802800 size=512 phys_addr=200000 attrs=");
        TraceReplay r = run("x86-q35", "swiotlb=force", t, true);
        assertThat(r.exact()).isZero();
        assertThat(r.exactOneStep()).isEqualTo(1);
        assertThat(r.fidelityOneStep()).isEqualTo(0.5);
        assertThat(r.oneStepModel().adoptFailures()).isZero();
        assertThat(r.oneStepModel().machine().swiotlb().defaultMem().defpool().isUsed(4))
                .isTrue();
        assertThat(r.oneStepModel().machine().swiotlb().defaultMem().defpool().isUsed(0))
                .isFalse();
    }

    @Test
    void aBounceWhoseMapLineNeverComesIsAnOrphanAndTheWindowBeyondItIsReplayedIntact() {
        // A bounce whose map line is missing (a skipped malformed line, say) followed by more lines than the window
        // holds: the search stops at the window's end instead of reading past it, and every later mapping is still
        // replayed in order.
        StringBuilder t = new StringBuilder(line(
                1, "swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=900000 size=512 FORCE"));
        int pairs = TraceReplay.LOOKAHEAD;
        for (int i = 0; i < pairs; i++) {
            String a = Long.toHexString(0x100000L + 0x1000L * i);
            t.append(line(
                            2 + 2 * i,
                            "dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=" + a + " size=4096 phys_addr=" + a
                                    + " attrs="))
                    .append(line(
                            3 + 2 * i,
                            "dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=" + a + " size=4096 attrs="));
        }
        TraceReplay r = run("x86-q35", "", t.toString(), false);
        assertThat(r.orphanBounces()).isEqualTo(1);
        assertThat(r.events()).isEqualTo(1 + 2L * pairs);
        assertThat(r.streamingMappings()).isEqualTo(pairs);
        assertThat(r.exact()).isEqualTo(pairs);
        assertThat(r.model().unmatchedUnmaps()).isZero();
        assertThat(r.model().liveAtEndByDevice()).isEmpty();
    }

    @Test
    void aTruncatedScatterlistIsCompletedFromItsUnmapAndMatchedByItsWholePhysList() {
        StringBuilder phys = new StringBuilder();
        StringBuilder dma = new StringBuilder();
        StringBuilder sizes = new StringBuilder();
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 130; i++) {
            String a = "0x" + Long.toHexString(0x1000000L + 0x2000L * i);
            if (i < 128) {
                phys.append(i == 0 ? "" : ",").append(a);
                dma.append(i == 0 ? "" : ",").append(a);
                sizes.append(i == 0 ? "" : ",").append("0x1000");
            }
            all.append(i == 0 ? "" : ",").append(a);
        }
        String t = line(
                        1,
                        "dma_map_sg: 0000:00:1f.2 dir=TO_DEVICE nents=128/130 ents=128/130 [TRUNCATED] dma_addrs={"
                                + dma + "} sizes={" + sizes + "} phys_addrs={" + phys + "} attrs=")
                + line(2, "dma_unmap_sg: 0000:00:1f.2 dir=TO_DEVICE phys_addrs={" + all + "} attrs=");
        TraceReplay r = run("x86-q35", "", t, false);
        assertThat(r.exact()).isEqualTo(1);
        assertThat(r.truncatedFromUnmap()).isEqualTo(1);
        assertThat(r.model().unmatchedUnmaps()).isZero();
        assertThat(r.model().liveAtEndByDevice()).isEmpty();
    }

    @Test
    void setupTakesRamFromIomemAndCpusFromTheLogAndSaysSo() {
        PlatformProfile p = Platforms.builtIn("arm64-virt");
        ReplaySetup s = ReplaySetup.create(
                p,
                KernelVersion.V6_12,
                new ReplaySetup.FileText("cmdline.txt", "console=ttyAMA0\n"),
                new ReplaySetup.FileText(
                        "iomem.txt", "40000000-7fffffff : System RAM\n  40210000-41ffffff : Kernel code\n"),
                new ReplaySetup.FileText(
                        "dmesg.txt", "[    0.000000] foo\n[    0.250828] smp: Brought up 1 node, 4 CPUs\n"),
                null,
                "",
                null);
        assertThat(s.profile().ram()).singleElement().satisfies(r -> {
            assertThat(r.start()).isEqualTo(0x40000000L);
            assertThat(r.size()).isEqualTo(1L << 30);
        });
        assertThat(s.profile().cpus()).isEqualTo(4);
        // arm64: a 1 GiB machine sizes the default pool to 1 MiB (validated-swiotlb C2), 4 areas of 128 slots
        Machine m = s.boot();
        assertThat(m.swiotlbGeometry().nslabs()).isEqualTo(512);
        assertThat(m.swiotlbGeometry().nareas()).isEqualTo(4);
        assertThat(s.sources())
                .extracting(ReplaySetup.Source::parameter, ReplaySetup.Source::from)
                .contains(
                        org.assertj.core.groups.Tuple.tuple("RAM", "iomem.txt"),
                        org.assertj.core.groups.Tuple.tuple("CPUs", "dmesg.txt:2"));
    }

    @Test
    void machineFilesNameTheFileAndLineOfWhatTheyCannotRead() {
        assertThatThrownBy(() -> MachineFiles.iomemRam("iomem.txt", "00000000-00000000 : System RAM\n", 4096))
                .isInstanceOf(InputException.class)
                .hasMessage("iomem.txt:1: every address is zero: /proc/iomem was read without root; read it as root");
        assertThatThrownBy(() -> MachineFiles.iomemRam("iomem.txt", "00001000-0009fbff : System RAM\nbogus\n", 4096))
                .hasMessageStartingWith("iomem.txt:2: expected 'start-end : name'");
        assertThat(MachineFiles.iomemRam("iomem.txt", "00001000-0009fbff : System RAM\n", 4096))
                .as("rounded inwards to whole pages, as memblock does")
                .containsExactly(new PlatformProfile.Range(0x1000, 0x9e000, "System RAM"));
        MachineFiles.Dmesg d = MachineFiles.dmesg(
                "dmesg.txt",
                "[    0.000000] software IO TLB: area num 2.\n"
                        + "[    0.000000] software IO TLB: mapped [mem 0x00000000b7800000-0x00000000b9800000] (32MB)\n");
        assertThat(d.swiotlbNslabs()).as("the printed end is exclusive: 32 MiB").isEqualTo(16384);
        assertThat(d.areas()).isEqualTo(2);
        List<MachineFiles.DeviceFact> devs = MachineFiles.devices(
                "devices.txt",
                "bdf=0000:00:03.0 vendor=0x1b36 device=0x0010 class=0x010802 driver=nvme dma_mask_bits=64"
                        + " consistent_dma_mask_bits=64 iommu_group=2\n"
                        + "== 0000:00:06.0 vendor=0x8086 driver=e1000e dma_mask_bits=32 consistent_dma_mask_bits=32\n");
        assertThat(devs)
                .containsExactly(
                        new MachineFiles.DeviceFact("0000:00:03.0", "nvme", 64, 64, 1),
                        new MachineFiles.DeviceFact("0000:00:06.0", "e1000e", 32, 32, 2));
        assertThatThrownBy(() -> MachineFiles.devices("devices.txt", "bdf=0000:00:03.0 dma_mask_bits=99\n"))
                .hasMessage("devices.txt:1: dma_mask_bits: expected 1..64, got 99");
    }

    /**
     * 6.13's {@code dma_alloc_sgt}: behind VT-d its IOVA comes from the allocator the coherent buffers use, so the
     * model remakes it as a coherent allocation of the size and compares the handle; {@code dma_free_sgt} returns
     * it. The kernel's handle here is what the model gives a fresh machine's first 8 KiB coherent buffer of the NVMe.
     */
    @Test
    void noncontiguousAllocationsTakeTheirIovaBehindTheIommu() {
        Machine fresh = ReplaySetup.create(
                        Platforms.builtIn("x86-q35-vtd"), KernelVersion.V6_12, null, null, null, null, "", null)
                .boot();
        long[] h = new long[1];
        assertThat(fresh.dma().allocAttrs(fresh.device("0000:00:03.0"), 8192, h, Gfp.GFP_KERNEL, 0))
                .isNotZero();
        String alloc = "dma_alloc_sgt: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=%x size=8192"
                + " phys_addrs={0x1234000,0x5678000} flags=GFP_KERNEL attrs=";
        String free = "dma_free_sgt: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=%x size=8192"
                + " phys_addrs={0x1234000,0x5678000}";
        String t = line(1, String.format(alloc, h[0]))
                + line(2, String.format(free, h[0]))
                // the next one takes the same IOVA again (the first went back to the rcache), not another
                + line(3, String.format(alloc, h[0]));
        TraceReplay r = run("x86-q35-vtd", "", t, true);
        assertThat(r.model().coherentAllocs()).isEqualTo(2);
        assertThat(r.model().coherentFrees()).isEqualTo(1);
        assertThat(r.model().coherentCompared()).isEqualTo(2);
        assertThat(r.model().coherentExact()).isEqualTo(2);
        assertThat(r.model().freesWithoutAlloc()).isZero();
        assertThat(r.model().coherentLiveByDevice()).containsEntry("0000:00:03.0", 1L);

        // a handle the model would not give is a coherent miss, reported
        TraceReplay wrong = run("x86-q35-vtd", "", line(1, String.format(alloc, h[0] - 0x100000)), false);
        assertThat(wrong.model().coherentCompared()).isEqualTo(1);
        assertThat(wrong.model().coherentExact()).isZero();
    }
}
