package dev.dmalab.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Gfp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

class FtraceParserTest {
    static final String HEADER = "# tracer: nop\n"
            + "#\n"
            + "# entries-in-buffer/entries-written: 3/3   #P:1\n"
            + "#\n"
            + "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
            + "#              | |         |   |||||     |         |\n";

    static final String MAP =
            "    kworker/u4:7-210     [000] .....     3.616693: dma_map_page: 0000:00:03.0 dir=FROM_DEVICE"
                    + " dma_addr=79804000 size=4096 phys_addr=ddd4000 attrs=";
    static final String UNMAP = "    kworker/u4:7-210     [000] d.h..     3.617444: dma_unmap_page: 0000:00:03.0"
            + " dir=FROM_DEVICE dma_addr=79804000 size=4096 attrs=";
    static final String MARK =
            "            init-1       [000] .....     2.813433: tracing_mark_write: TRACECAP BEGIN run=x";

    private static List<TraceRecord> parseAll(String text, boolean strict) {
        List<TraceRecord> out = new ArrayList<>();
        try (FtraceParser p = new FtraceParser("t.trace", new StringReader(text), strict)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                out.add(r);
            }
        }
        return out;
    }

    private static TraceRecord one(String line) {
        List<TraceRecord> rs = parseAll(line + "\n", true);
        assertThat(rs).hasSize(1);
        return rs.get(0);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The prefix and the typed payloads

    @Test
    void prefixFieldsAreRead() {
        TraceRecord r = one(UNMAP);
        assertThat(r.line()).isEqualTo(1);
        assertThat(r.comm()).isEqualTo("kworker/u4:7");
        assertThat(r.pid()).isEqualTo(210);
        assertThat(r.cpu()).isZero();
        assertThat(r.flags()).isEqualTo("d.h..");
        assertThat(r.timestampNs()).isEqualTo(3_617_444_000L);
        assertThat(r.eventName()).isEqualTo("dma_unmap_page");
        assertThat(r.event())
                .isEqualTo(new TraceEvent.Unmap("0000:00:03.0", Direction.FROM_DEVICE, 0x79804000L, 4096, 0, false));
    }

    @Test
    void commsWithDashesSpacesAndAngleBracketsAreRead() {
        TraceRecord idle = one("          <idle>-0       [001] d.h1.  1234.000001: tracing_mark_write: x");
        assertThat(idle.comm()).isEqualTo("<idle>");
        assertThat(idle.pid()).isZero();
        assertThat(idle.cpu()).isEqualTo(1);
        assertThat(idle.timestampNs()).isEqualTo(1234_000_001_000L);
        TraceRecord dashed = one("   systemd-udevd-311     [003] .....     3.551240: tracing_mark_write: y");
        assertThat(dashed.comm()).isEqualTo("systemd-udevd");
        assertThat(dashed.pid()).isEqualTo(311);
        assertThat(dashed.cpu()).isEqualTo(3);
        TraceRecord spaced = one("  my task [x]-77      [000] .....     1.000000: tracing_mark_write: z");
        assertThat(spaced.comm()).isEqualTo("my task [x]");
        assertThat(spaced.pid()).isEqualTo(77);
    }

    @Test
    void mapPageAndAttrs() {
        TraceRecord r = one("    a-1 [000] ..... 1.000000: dma_map_page: 0000:03:00.0 dir=BIDIRECTIONAL"
                + " dma_addr=ffffffffffffffff size=131072 phys_addr=36ed000 attrs=SKIP_CPU_SYNC|NO_WARN");
        assertThat(r.event())
                .isEqualTo(new TraceEvent.Map(
                        "0000:03:00.0",
                        Direction.BIDIRECTIONAL,
                        -1L,
                        131072,
                        0x36ed000L,
                        DmaAttrs.SKIP_CPU_SYNC | DmaAttrs.NO_WARN,
                        false));
    }

    @Test
    void resourceEventsAreFlagged() {
        TraceRecord m = one("          <idle>-0        [000] d.h2.   412.120010: dma_map_resource: 0000:03:00.0"
                + " dir=BIDIRECTIONAL dma_addr=fe000000 size=256 phys_addr=fe000000 attrs=SKIP_CPU_SYNC");
        assertThat(((TraceEvent.Map) m.event()).resource()).isTrue();
        TraceRecord u = one("          <idle>-0        [000] d.h2.   412.120044: dma_unmap_resource: 0000:03:00.0"
                + " dir=BIDIRECTIONAL dma_addr=fe000000 size=256 attrs=SKIP_CPU_SYNC");
        assertThat(((TraceEvent.Unmap) u.event()).resource()).isTrue();
    }

    @Test
    void scatterlistOf612yWithCounts() {
        TraceRecord r = one("     kworker/u8:3-140     [000] .....    55.000120: dma_map_sg: 0000:00:1f.2 dir=TO_DEVICE"
                + " nents=3/3 ents=1/1 dma_addrs={0x7ffff1c000} sizes={0x4000}"
                + " phys_addrs={0xd9e1000,0xd8df000,0xd8f6000} attrs=NO_WARN");
        TraceEvent.MapSg sg = (TraceEvent.MapSg) r.event();
        assertThat(sg.nents()).isEqualTo(3);
        assertThat(sg.ents()).isEqualTo(1);
        assertThat(sg.truncated()).isFalse();
        assertThat(sg.dmaAddrs()).containsExactly(0x7ffff1c000L);
        assertThat(sg.sizes()).containsExactly(0x4000L);
        assertThat(sg.phys()).containsExactly(0xd9e1000L, 0xd8df000L, 0xd8f6000L);
        assertThat(sg.attrs()).isEqualTo(DmaAttrs.NO_WARN);
    }

    /** 6.12.0 printed no nents=/ents= and no dir= on dma_alloc/dma_free; both forms must parse. */
    @Test
    void eventsOfThe6120FormParse() {
        TraceEvent.MapSg sg = (TraceEvent.MapSg)
                one("     kworker/u8:3-140     [000] .....    55.000120: dma_map_sg: 0000:00:1f.2 dir=TO_DEVICE"
                                + " dma_addrs={0xfffe0000,0xfffe3000} sizes={0x1000,0x200}"
                                + " phys_addrs={0x12a37000,0x12a40000} attrs=")
                        .event();
        assertThat(sg.nents()).isEqualTo(2);
        assertThat(sg.ents()).isEqualTo(2);
        assertThat(sg.truncated()).isFalse();
        assertThat(sg.sizes()).containsExactly(0x1000L, 0x200L);

        TraceEvent.Alloc a = (TraceEvent.Alloc)
                one("     systemd-udevd-311     [001] .....     3.551240: dma_alloc: fa000000.sata dma_addr=ff7e0000"
                                + " size=8192 virt_addr=00000000c0ffee42 flags=GFP_KERNEL attrs=")
                        .event();
        assertThat(a.dir()).isNull();
        assertThat(a.device()).isEqualTo("fa000000.sata");
        assertThat(a.dmaAddr()).isEqualTo(0xff7e0000L);
        assertThat(a.size()).isEqualTo(8192);
        assertThat(a.virt()).isEqualTo(0xc0ffee42L);
        assertThat(a.phys()).isEqualTo(-1);
        assertThat(a.gfp()).isEqualTo(Gfp.GFP_KERNEL);
        assertThat(a.pages()).isFalse();

        // 6.12-rc1..rc3: phys_addr= instead of virt_addr=
        TraceEvent.Alloc rc = (TraceEvent.Alloc)
                one("     systemd-udevd-311     [001] .....     3.551240: dma_alloc: fa000000.sata dma_addr=ff7e0000"
                                + " size=8192 phys_addr=ff7e0000 flags=GFP_KERNEL attrs=")
                        .event();
        assertThat(rc.virt()).isEqualTo(-1);
        assertThat(rc.phys()).isEqualTo(0xff7e0000L);

        TraceEvent.Free f = (TraceEvent.Free)
                one("           rmmod-902      [003] .....   900.004411: dma_free: fa000000.sata dma_addr=ff7e0000"
                                + " size=8192 virt_addr=00000000c0ffee42 attrs=")
                        .event();
        assertThat(f.dir()).isNull();
        assertThat(f.virt()).isEqualTo(0xc0ffee42L);
    }

    @Test
    void allocWithDirectionAndCompositeGfp() {
        TraceEvent.Alloc a = (TraceEvent.Alloc)
                one("              insmod-152     [000] .....     2.130435: dma_alloc: 0000:00:02.0 dir=BIDIRECTIONAL"
                                + " dma_addr=b9ac0000 size=6726 virt_addr=00000000582ccb78"
                                + " flags=GFP_KERNEL|__GFP_NOWARN|__GFP_ZERO attrs=NO_WARN")
                        .event();
        assertThat(a.dir()).isEqualTo(Direction.BIDIRECTIONAL);
        assertThat(a.gfp()).isEqualTo(Gfp.GFP_KERNEL | Gfp.NOWARN | Gfp.ZERO);
        assertThat(a.attrs()).isEqualTo(DmaAttrs.NO_WARN);
    }

    @Test
    void syncsAndBouncesAndMarkers() {
        assertThat(one("          <idle>-0       [000] ..s1.    13.178599: dma_sync_single_for_cpu: 0000:00:05.0"
                                + " dir=FROM_DEVICE dma_addr=7ad3f000 size=68")
                        .event())
                .isEqualTo(new TraceEvent.Sync("0000:00:05.0", true, Direction.FROM_DEVICE, 0x7ad3f000L, 68));
        assertThat(one("          <idle>-0        [000] d.s3.    55.001030: dma_sync_single_for_device: 0000:03:00.0"
                                + " dir=FROM_DEVICE dma_addr=fffff000 size=1514")
                        .event())
                .isEqualTo(new TraceEvent.Sync("0000:03:00.0", false, Direction.FROM_DEVICE, 0xfffff000L, 1514));
        TraceEvent.SyncSg ssg = (TraceEvent.SyncSg)
                one("     kworker/u8:3-140     [000] .....    55.002000: dma_sync_sg_for_cpu: 0000:00:1f.2"
                                + " dir=FROM_DEVICE dma_addrs={0xfffe0000} sizes={0x1000}")
                        .event();
        assertThat(ssg.forCpu()).isTrue();
        assertThat(ssg.dmaAddrs()).containsExactly(0xfffe0000L);
        assertThat(one("     kworker/u8:3-140     [000] .....    55.003000: swiotlb_bounced: dev_name: 0000:00:1f.2"
                                + " dma_mask=ffffffff dev_addr=1b2f40000 size=4096 NORMAL")
                        .event())
                .isEqualTo(new TraceEvent.SwiotlbBounced("0000:00:1f.2", 0xffffffffL, 0x1b2f40000L, 4096, false));
        assertThat(one(MARK).event()).isEqualTo(new TraceEvent.Marker("TRACECAP BEGIN run=x"));
        // a marker's text may contain ": "
        assertThat(one("            init-1       [000] .....     2.813433: tracing_mark_write: A: b: c")
                        .event())
                .isEqualTo(new TraceEvent.Marker("A: b: c"));
    }

    @Test
    void unmapSgAndMapSgErr() {
        TraceEvent.UnmapSg u = (TraceEvent.UnmapSg)
                one("          <idle>-0       [001] d.h..     9.582531: dma_unmap_sg: 0000:00:03.0 dir=TO_DEVICE"
                                + " phys_addrs={0x4208d000,0x42798000} attrs=")
                        .event();
        assertThat(u.phys()).containsExactly(0x4208d000L, 0x42798000L);
        TraceEvent.MapSgErr err = (TraceEvent.MapSgErr)
                one("              dd-1     [000] .....     9.582531: dma_map_sg_err: 0000:00:03.0 dir=TO_DEVICE"
                                + " dma_addrs={0x4208d000} err=-12 attrs=")
                        .event();
        assertThat(err.err()).isEqualTo(-12);
        assertThat(err.phys()).containsExactly(0x4208d000L);
    }

    /** arm64 captures carry the function tracer's "fn <-caller" lines: kept as Other("function", ...) and counted. */
    @Test
    void functionTracerLinesBecomeOther() {
        String text = HEADER
                + "            init-1       [001] .....     1.185119: xen_swiotlb_dma_supported <-dma_supported\n"
                + "              dd-230     [000] d....     5.000001: xen_swiotlb_map_page <-dma_map_page_attrs\n"
                + MAP + "\n"
                + "              dd-230     [000] d....     5.000002: sched_switch: prev_comm=dd prev_pid=230\n";
        try (FtraceParser p = new FtraceParser("f.trace", new StringReader(text), true)) {
            TraceRecord a = p.next();
            assertThat(a.event())
                    .isEqualTo(new TraceEvent.Other("function", "xen_swiotlb_dma_supported <-dma_supported"));
            assertThat(a.cpu()).isEqualTo(1);
            TraceRecord b = p.next();
            assertThat(b.eventName()).isEqualTo("function");
            assertThat(b.event())
                    .isEqualTo(new TraceEvent.Other("function", "xen_swiotlb_map_page <-dma_map_page_attrs"));
            assertThat(b.timestampNs()).isEqualTo(5_000_001_000L);
            assertThat(p.next().event()).isInstanceOf(TraceEvent.Map.class);
            TraceRecord d = p.next();
            assertThat(d.event()).isEqualTo(new TraceEvent.Other("sched_switch", "prev_comm=dd prev_pid=230"));
            assertThat(p.next()).isNull();
            assertThat(p.otherEvents()).isEqualTo(3);
            assertThat(p.malformedLines()).isZero();
        }
    }

    @Test
    void headerCommentsAndBlankLinesAreSkippedButCounted() {
        String text = HEADER + "\n" + MARK + "\n   \n" + MAP + "\n";
        List<TraceRecord> rs = parseAll(text, true);
        assertThat(rs).extracting(TraceRecord::line).containsExactly(8, 10);
        assertThat(parseAll(HEADER, true)).isEmpty();
        assertThat(parseAll("", true)).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Malformed lines

    /** Each malformed line, placed at line 8 after the header and a good line, and the reason it must give. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                // garbage
                "hello world|not an ftrace event line",
                "[000] .....     3.0: tracing_mark_write: x|not an ftrace event line",
                "task [000] .....     3.0: tracing_mark_write: x|no task-pid",
                "    a-1     [000]|line ends after the [cpu] column",
                "    a-1     [000] .....     3.x17444: tracing_mark_write: x|bad timestamp",
                "    a-1     [000] .....     3.617444 tracing_mark_write x|no timestamp",
                // missing fields
                "    a-1     [000] .....     3.617444: dma_unmap_page: 0000:00:03.0 dir=FROM_DEVICE size=4096 attrs=|missing field dma_addr=",
                "    a-1     [000] .....     3.617444: dma_map_page: 0000:00:03.0 dma_addr=1 size=1 phys_addr=1 attrs=|missing field dir=",
                "    a-1     [000] .....     3.617444: dma_map_page: dir=TO_DEVICE dma_addr=1 size=1 phys_addr=1 attrs=|missing device name",
                "    a-1     [000] .....     3.617444: dma_map_page: |missing device name",
                "    a-1     [000] .....     3.617444: dma_alloc: d dir=BIDIRECTIONAL dma_addr=1 size=1 virt_addr=0 attrs=|missing field flags=",
                // bad hex, bad decimal
                "    a-1     [000] .....     3.617444: dma_unmap_page: d dir=FROM_DEVICE dma_addr=xyz size=4096 attrs=|dma_addr=xyz is not a hex address",
                "    a-1     [000] .....     3.617444: dma_unmap_page: d dir=FROM_DEVICE dma_addr=1 size=0x10 attrs=|size=0x10 is not a decimal size",
                "    a-1     [000] .....     3.617444: dma_unmap_page: d dir=FROM_DEVICE dma_addr=1 size=-1 attrs=|size=-1 is not a decimal size",
                "    a-1     [000] .....     3.617444: dma_unmap_sg: d dir=TO_DEVICE phys_addrs={0x1,0xg} attrs=|phys_addrs[1]=0xg is not hex",
                "    a-1     [000] .....     3.617444: dma_unmap_sg: d dir=TO_DEVICE phys_addrs=0x1 attrs=|phys_addrs is not an array",
                // bad dir
                "    a-1     [000] .....     3.617444: dma_unmap_page: d dir=SIDEWAYS dma_addr=1 size=1 attrs=|dir=SIDEWAYS is not a DMA direction",
                // bad flags, attrs, counts
                "    a-1     [000] .....     3.617444: dma_alloc: d dma_addr=1 size=1 virt_addr=0 flags=GFP_BOGUS attrs=|flags=GFP_BOGUS",
                "    a-1     [000] .....     3.617444: dma_unmap_page: d dir=TO_DEVICE dma_addr=1 size=1 attrs=SHINY|attrs=SHINY",
                "    a-1     [000] .....     3.617444: dma_map_sg: d dir=TO_DEVICE nents=1/x ents=1/1 dma_addrs={0x1} sizes={0x1} phys_addrs={0x1} attrs=|nents=1/x is not a count",
                "    a-1     [000] .....     3.617444: dma_map_sg: d dir=TO_DEVICE dma_addrs={0x1,0x2} sizes={0x1} phys_addrs={0x1} attrs=|2 dma_addrs but 1 sizes",
                "    a-1     [000] .....     3.617444: swiotlb_bounced: d dma_mask=1 dev_addr=1 size=1 FORCE|expected 'dev_name: '",
                "    a-1     [000] .....     3.617444: swiotlb_bounced: dev_name: d dma_mask=1 dev_addr=1 size=1 MAYBE|expected FORCE or NORMAL",
                // numbers too large for their column
                "    a-99999999999     [000] .....     3.617444: tracing_mark_write: x|pid",
                "    a-1     [99999999999] .....     3.617444: tracing_mark_write: x|cpu",
                "    a-1     [000] .....     99999999999999999999.617444: tracing_mark_write: x|timestamp",
                "    a-1     [000] .....     9999999999999.617444: tracing_mark_write: x|timestamp",
                "    a-1     [000] .....     3.6174440001: tracing_mark_write: x|bad timestamp",
            })
    void strictModeThrowsWithFileAndLine(String spec) {
        int bar = spec.lastIndexOf('|');
        String bad = spec.substring(0, bar);
        String reason = spec.substring(bar + 1);
        String text = HEADER + MARK + "\n" + bad + "\n" + MAP + "\n";
        TraceFormatException e = catchThrowableOfType(() -> parseAll(text, true), TraceFormatException.class);
        assertThat(e).as(bad).isNotNull();
        assertThat(e.file()).isEqualTo("t.trace");
        assertThat(e.line()).isEqualTo(8);
        assertThat(e.reason()).contains(reason);
        assertThat(e.getMessage()).isEqualTo("t.trace:8: " + e.reason()).doesNotContain("\n");

        // non-strict: the line is skipped and counted; the lines around it are read
        try (FtraceParser p = new FtraceParser("t.trace", new StringReader(text), false)) {
            List<TraceRecord> rs = new ArrayList<>();
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                rs.add(r);
            }
            assertThat(rs).extracting(TraceRecord::line).containsExactly(7, 9);
            assertThat(p.malformedLines()).isEqualTo(1);
            assertThat(p.firstErrors()).hasSize(1);
            assertThat(p.firstErrors().get(0).getMessage()).isEqualTo(e.getMessage());
        }
    }

    @Test
    void nonStrictModeCountsEveryBadLineAndKeepsTheFirstTen() {
        StringBuilder sb = new StringBuilder(HEADER);
        for (int i = 0; i < 25; i++) {
            sb.append("garbage ").append(i).append('\n');
            sb.append(MARK).append('\n');
        }
        try (FtraceParser p = new FtraceParser("g.trace", new StringReader(sb.toString()), false)) {
            int good = 0;
            while (p.next() != null) {
                good++;
            }
            assertThat(good).isEqualTo(25);
            assertThat(p.malformedLines()).isEqualTo(25);
            assertThat(p.firstErrors()).hasSize(10);
            assertThat(p.firstErrors().get(0).getMessage()).startsWith("g.trace:7: ");
            assertThat(p.firstErrors().get(9).line()).isEqualTo(7 + 18);
        }
    }

    @Test
    void strictModeStopsAtTheFirstBadLine() {
        String text = HEADER + MARK + "\nbad line\n" + MAP + "\n";
        try (FtraceParser p = new FtraceParser("s.trace", new StringReader(text), true)) {
            assertThat(p.next()).isNotNull();
            assertThatThrownBy(p::next).isInstanceOf(TraceFormatException.class).hasMessageStartingWith("s.trace:8: ");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Bytes: buffer boundaries, line ends, UTF-8

    private static List<TraceRecord> parseBytes(byte[] text, int bufferBytes) {
        List<TraceRecord> out = new ArrayList<>();
        try (FtraceParser p = new FtraceParser("b.trace", new ByteArrayInputStream(text), true, bufferBytes)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                out.add(r);
            }
        }
        return out;
    }

    private static List<String> described(List<TraceRecord> records) {
        return records.stream().map(FtraceParserDifferentialTest::describe).toList();
    }

    @Test
    void linesAcrossBufferBoundariesReadAsFromOneBuffer() {
        byte[] text = (HEADER + MARK + "\n" + MAP + "\n" + UNMAP + "\n" + MARK).getBytes(StandardCharsets.UTF_8);
        List<String> whole = described(parseBytes(text, 1 << 20));
        assertThat(whole).hasSize(4);
        for (int bufferBytes = 1; bufferBytes <= text.length + 1; bufferBytes++) {
            assertThat(described(parseBytes(text, bufferBytes)))
                    .as(bufferBytes + "-byte buffers")
                    .isEqualTo(whole);
        }
    }

    @Test
    void crLfAndALoneCrEndLinesAsReadLineEndsThem() {
        String text = MARK + "\r\n" + MAP + "\r" + UNMAP + "\r\n\r\n" + MARK + "\r";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (int bufferBytes = 1; bufferBytes <= bytes.length + 1; bufferBytes++) {
            List<TraceRecord> rs = parseBytes(bytes, bufferBytes);
            assertThat(rs)
                    .extracting(TraceRecord::line)
                    .as(bufferBytes + "-byte buffers")
                    .containsExactly(1, 2, 3, 5);
            assertThat(rs).extracting(TraceRecord::text).containsExactly(MARK, MAP, UNMAP, MARK);
            assertThat(rs.get(1).event()).isInstanceOf(TraceEvent.Map.class);
            assertThat(rs.get(3).event()).isEqualTo(new TraceEvent.Marker("TRACECAP BEGIN run=x"));
        }
    }

    @Test
    void utf8TaskNamesAndMarkersDecodeWhereverTheBuffersSplitThem() {
        String line = "   tâsk-ü日本-42     [001] d..1.     7.000001: tracing_mark_write: héllo wörld 日本 \ud83d\ude00";
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        for (int bufferBytes = 1; bufferBytes <= bytes.length + 1; bufferBytes++) {
            TraceRecord r = parseBytes(bytes, bufferBytes).get(0);
            assertThat(r.comm()).as(bufferBytes + "-byte buffers").isEqualTo("tâsk-ü日本");
            assertThat(r.pid()).isEqualTo(42);
            assertThat(r.cpu()).isEqualTo(1);
            assertThat(r.event()).isEqualTo(new TraceEvent.Marker("héllo wörld 日本 \ud83d\ude00"));
            assertThat(r.text()).isEqualTo(line);
        }
        // a malformed byte reads as U+FFFD, as a decoding reader gives it
        byte[] broken =
                "  a\u00ff-1 [000] ..... 1.000000: tracing_mark_write: x\u00ff\n".getBytes(StandardCharsets.ISO_8859_1);
        TraceRecord r = parseBytes(broken, 8).get(0);
        assertThat(r.comm()).isEqualTo("a\ufffd");
        assertThat(r.event()).isEqualTo(new TraceEvent.Marker("x\ufffd"));
        // the Reader constructor: a surrogate pair split between two reads of the reader is one character
        String prefix = "  a-1 [000] ..... 1.000000: tracing_mark_write: ";
        String marker = "x".repeat((1 << 13) - 1 - prefix.length()) + "\ud83d\ude00";
        String viaReader = prefix + marker + "\n";
        assertThat(viaReader.indexOf('\ud83d')).isEqualTo((1 << 13) - 1);
        assertThat(one(viaReader.substring(0, viaReader.length() - 1)).event())
                .isEqualTo(new TraceEvent.Marker(marker));
    }

    /** The first {@code n} pages from 0x2b00000, as a trace prints an array: {@code 0x2b00000,0x2b01000,...}. */
    private static String pages(int n) {
        return LongStream.range(0, n)
                .mapToObj(i -> "0x" + Long.toHexString(0x2b00000L + 0x1000L * i))
                .collect(Collectors.joining(","));
    }

    @Test
    void aScatterlistLineLongerThanTheBufferIsReadWhole() {
        String map = "              dd-472     [000] d..1.     6.384046: dma_map_sg: 0000:00:1f.2 dir=TO_DEVICE"
                + " nents=128/168 ents=128/168 [TRUNCATED] dma_addrs={" + pages(128) + "} sizes={"
                + String.join(",", Collections.nCopies(128, "0x1000")) + "} phys_addrs={" + pages(128) + "} attrs=";
        String unmap = "              dd-472     [000] d.h1.     6.390000: dma_unmap_sg: 0000:00:1f.2 dir=TO_DEVICE"
                + " phys_addrs={" + pages(168) + "} attrs=";
        byte[] bytes = (MARK + "\n" + map + "\n" + unmap + "\n" + MARK + "\n").getBytes(StandardCharsets.UTF_8);
        assertThat(map.length()).isGreaterThan(3000);
        for (int bufferBytes : new int[] {16, 1000, 3000, 4096, FtraceParser.BUFFER_BYTES}) {
            List<TraceRecord> rs = parseBytes(bytes, bufferBytes);
            assertThat(rs).as(bufferBytes + "-byte buffers").hasSize(4);
            TraceEvent.MapSg sg = (TraceEvent.MapSg) rs.get(1).event();
            assertThat(sg.truncated()).isTrue();
            assertThat(sg.nents()).isEqualTo(168);
            assertThat(sg.ents()).isEqualTo(168);
            assertThat(sg.dmaAddrs()).hasSize(128).startsWith(0x2b00000L).endsWith(0x2b00000L + 0x1000L * 127);
            assertThat(sg.sizes()).hasSize(128).containsOnly(0x1000L);
            assertThat(((TraceEvent.UnmapSg) rs.get(2).event()).phys())
                    .hasSize(168)
                    .endsWith(0x2b00000L + 0x1000L * 167);
            assertThat(rs.get(1).text()).isEqualTo(map);
            assertThat(rs.get(3).line()).isEqualTo(4);
        }
    }

    @Test
    void recurringNamesAreTheSameStrings() {
        List<TraceRecord> rs = parseAll(MAP + "\n" + UNMAP + "\n" + MAP + "\n", true);
        assertThat(rs.get(0).comm())
                .isSameAs(rs.get(1).comm())
                .isSameAs(rs.get(2).comm());
        assertThat(rs.get(0).eventName()).isSameAs(rs.get(2).eventName());
        assertThat(rs.get(0).flags()).isSameAs(rs.get(2).flags());
        assertThat(((TraceEvent.Map) rs.get(0).event()).device())
                .isSameAs(((TraceEvent.Unmap) rs.get(1).event()).device());
        // names that differ in one byte, alternating, keep their own instances (they must not evict each other)
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            text.append(MAP.replace("0000:00:03.0", "0000:00:0" + (2 + i % 4) + ".0"))
                    .append('\n');
        }
        List<String> devices = parseAll(text.toString(), true).stream()
                .map(r -> ((TraceEvent.Map) r.event()).device())
                .toList();
        for (int i = 4; i < devices.size(); i++) {
            assertThat(devices.get(i)).isSameAs(devices.get(i - 4));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Files: plain, .xz, .gz

    @Test
    void plainXzAndGzFilesParseTheSame(@TempDir Path dir) throws IOException {
        String text = HEADER + MARK + "\n" + MAP + "\n" + UNMAP + "\n";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Path plain = dir.resolve("t.txt");
        Files.write(plain, bytes);
        Path xz = dir.resolve("t.txt.xz");
        try (OutputStream o = new XZOutputStream(Files.newOutputStream(xz), new LZMA2Options())) {
            o.write(bytes);
        }
        Path gz = dir.resolve("t.txt.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(bytes);
        }
        List<TraceRecord> expected = parseAll(text, true);
        assertThat(expected).hasSize(3);
        for (Path p : List.of(plain, xz, gz)) {
            List<TraceRecord> got = new ArrayList<>();
            try (FtraceParser parser = FtraceParser.open(p, true)) {
                for (TraceRecord r = parser.next(); r != null; r = parser.next()) {
                    got.add(r);
                }
            }
            assertThat(got).as(p.toString()).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(got.get(i).event()).isEqualTo(expected.get(i).event());
                assertThat(got.get(i).line()).isEqualTo(expected.get(i).line());
                assertThat(got.get(i).timestampNs()).isEqualTo(expected.get(i).timestampNs());
            }
        }
    }

    @Test
    void errorsInACompressedFileNameThatFile(@TempDir Path dir) throws IOException {
        Path gz = dir.resolve("bad.trace.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write((HEADER + "nonsense\n").getBytes(StandardCharsets.UTF_8));
        }
        try (FtraceParser p = FtraceParser.open(gz, true)) {
            assertThatThrownBy(p::next).isInstanceOf(TraceFormatException.class).hasMessageStartingWith(gz + ":7: ");
        }
    }

    /** 6.13's noncontiguous allocations and 6.17's phys maps, with the MMIO attribute that marks a resource map. */
    @Test
    void newerKernelsEventsAreRead() {
        String pre = "    kworker/u4:7-210     [000] .....     3.616693: ";
        assertThat(one(pre + "dma_alloc_sgt: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=fffff000 size=8192"
                                + " phys_addrs={0x1234000,0x5678000} flags=GFP_KERNEL attrs=")
                        .event())
                .usingRecursiveComparison()
                .isEqualTo(new TraceEvent.AllocSgt(
                        "0000:00:03.0",
                        Direction.BIDIRECTIONAL,
                        0xfffff000L,
                        8192,
                        new long[] {0x1234000L, 0x5678000L},
                        Gfp.GFP_KERNEL,
                        0));
        assertThat(one(pre + "dma_free_sgt: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=fffff000 size=8192"
                                + " phys_addrs={0x1234000,0x5678000}")
                        .event())
                .usingRecursiveComparison()
                .isEqualTo(new TraceEvent.FreeSgt(
                        "0000:00:03.0", Direction.BIDIRECTIONAL, 0xfffff000L, 8192, new long[] {0x1234000L, 0x5678000L
                        }));
        assertThat(one(pre + "dma_map_phys: 0000:00:03.0 dir=TO_DEVICE dma_addr=79804000 size=4096"
                                + " phys_addr=ddd4000 attrs=")
                        .event())
                .isEqualTo(new TraceEvent.Map(
                        "0000:00:03.0", Direction.TO_DEVICE, 0x79804000L, 4096, 0xddd4000L, 0, false));
        assertThat(one(pre + "dma_map_phys: 0000:00:03.0 dir=TO_DEVICE dma_addr=fe000000 size=4096"
                                + " phys_addr=fe000000 attrs=SKIP_CPU_SYNC|MMIO")
                        .event())
                .isEqualTo(new TraceEvent.Map(
                        "0000:00:03.0",
                        Direction.TO_DEVICE,
                        0xfe000000L,
                        4096,
                        0xfe000000L,
                        DmaAttrs.SKIP_CPU_SYNC | DmaAttrs.MMIO,
                        true));
        assertThat(one(pre + "dma_unmap_phys: 0000:00:03.0 dir=TO_DEVICE dma_addr=fe000000 size=4096 attrs=MMIO")
                        .event())
                .isEqualTo(new TraceEvent.Unmap(
                        "0000:00:03.0", Direction.TO_DEVICE, 0xfe000000L, 4096, DmaAttrs.MMIO, true));
    }
}
