package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.testing.Captures;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import dev.dmalab.xen.XenSwiotlbDmaOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real Linux 6.12 dom0 on Xen 4.17 (arm64 virt, {@code testdata/captures/arm64-virt/xen-arm64-dom0}): every
 * streaming mapping of the capture is made again through the modelled DMA API of {@code arm64-virt-xen-dom0} —
 * dispatch to {@code xen_swiotlb_dma_ops}, {@code xen_phys_to_dma}, the bounce decision — on the trace's CPU, and
 * the model's DMA address must be the kernel's, open-loop (the model never adopts the trace's answer).
 *
 * <p>This is the Xen issue's share of the capture: streaming maps and unmaps (by DMA address; {@code dma_unmap_sg}
 * by its phys list). The replay command, coherent allocations taken from the trace, one-step fidelity and the
 * sizing oracle belong to the trace-replay issue.
 */
class XenDom0CaptureTest {
    static final String CAPTURE = "arm64-virt/xen-arm64-dom0";

    private record LiveSg(String device, long[] phys, ScatterList sg, int nents) {}

    @Test
    void everyStreamingMappingOfTheDom0CaptureIsPredictedExactly() throws Exception {
        Machine m = Machine.boot(Platforms.builtIn("arm64-virt-xen-dom0"), KernelVersion.V6_12);
        long pageSize = m.memory().pageSize().bytes();
        long maps = 0;
        long entries = 0;
        long exact = 0;
        long unmaps = 0;
        List<String> mismatches = new ArrayList<>();
        Map<String, Long> live = new HashMap<>(); // device@dma -> size, for matching unmaps
        List<LiveSg> liveSg = new ArrayList<>();
        try (FtraceParser p = FtraceParser.open(Captures.dir(CAPTURE).resolve("trace.txt.xz"), true)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                TraceEvent e = r.event();
                if (e instanceof TraceEvent.Map map && !map.resource()) {
                    Device dev = m.device(map.device());
                    assertThat(dev.dmaOps()).isInstanceOf(XenSwiotlbDmaOps.class);
                    m.kernel().context().onCpu(r.cpu());
                    long page = map.phys() & -pageSize;
                    long dma = m.dma().mapPageAttrs(dev, page, map.phys() - page, map.size(), map.dir(), map.attrs());
                    maps++;
                    entries++;
                    if (dma == map.dmaAddr()) {
                        exact++;
                    } else if (mismatches.size() < 5) {
                        mismatches.add("line " + r.line() + ": kernel " + Long.toHexString(map.dmaAddr()) + ", model "
                                + Long.toHexString(dma));
                    }
                    live.put(map.device() + "@" + dma, map.size());
                } else if (e instanceof TraceEvent.Unmap u && !u.resource()) {
                    if (live.remove(u.device() + "@" + u.dmaAddr()) != null) {
                        m.kernel().context().onCpu(r.cpu());
                        m.dma().unmapPageAttrs(m.device(u.device()), u.dmaAddr(), u.size(), u.dir(), u.attrs());
                        unmaps++;
                    }
                } else if (e instanceof TraceEvent.MapSg sg) {
                    assertThat(sg.truncated())
                            .as("line %d: a truncated list cannot be rebuilt", r.line())
                            .isFalse();
                    Device dev = m.device(sg.device());
                    m.kernel().context().onCpu(r.cpu());
                    ScatterList list = new ScatterList(sg.phys().length);
                    for (int i = 0; i < sg.phys().length; i++) {
                        list.addPhys(sg.phys()[i], (int) sg.sizes()[i], pageSize);
                    }
                    int ents = m.dma().mapSgAttrs(dev, list, list.nents(), sg.dir(), sg.attrs());
                    maps++;
                    assertThat(ents).as("line %d: mapped entries", r.line()).isEqualTo(sg.dmaAddrs().length);
                    for (int i = 0; i < ents; i++) {
                        entries++;
                        if (list.dmaAddress(i) == sg.dmaAddrs()[i]) {
                            exact++;
                        } else if (mismatches.size() < 5) {
                            mismatches.add("line " + r.line() + "[" + i + "]: kernel "
                                    + Long.toHexString(sg.dmaAddrs()[i]) + ", model "
                                    + Long.toHexString(list.dmaAddress(i)));
                        }
                    }
                    liveSg.add(new LiveSg(sg.device(), sg.phys(), list, list.nents()));
                } else if (e instanceof TraceEvent.UnmapSg u) {
                    for (int i = 0; i < liveSg.size(); i++) {
                        LiveSg s = liveSg.get(i);
                        if (s.device().equals(u.device()) && Arrays.equals(s.phys(), u.phys())) {
                            m.kernel().context().onCpu(r.cpu());
                            m.dma().unmapSgAttrs(m.device(u.device()), s.sg(), s.nents(), u.dir(), u.attrs());
                            liveSg.remove(i);
                            unmaps++;
                            break;
                        }
                    }
                }
            }
        }
        assertThat(mismatches).isEmpty();
        assertThat(maps)
                .as("dma_map_page + dma_map_sg events (capture README: 9,920)")
                .isEqualTo(9920);
        assertThat(entries).as("DMA addresses: 9,849 pages + 1,675 sg entries").isEqualTo(11524);
        assertThat(exact).isEqualTo(entries);
        assertThat(unmaps).as("every dma_unmap_page and dma_unmap_sg matched").isEqualTo(9339 + 71);
        assertThat(m.swiotlb().defaultMem().defpool().used())
                .as("nothing bounced")
                .isZero();
    }
}
