package dev.dmalab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmalab.check.DmaFinding;
import dev.dmalab.platform.Hazards;
import dev.dmalab.util.Bits;
import java.io.PrintWriter;
import java.util.List;

/** The DMA checker's findings as text and JSON. */
final class Findings {
    private Findings() {}

    /**
     * Each finding as a block: severity, category and device; what happened; the call and its kernel call chain;
     * why it matters; the fix; the built-in platforms the bug class bites on.
     */
    static void print(PrintWriter o, List<DmaFinding> checks, long suppressed) {
        if (checks.isEmpty() && suppressed == 0) {
            return;
        }
        o.println();
        o.println("DMA checker: " + checks.size() + " finding" + (checks.size() == 1 ? "" : "s")
                + (suppressed == 0
                        ? ""
                        : "; " + suppressed + " more dma-debug error" + (suppressed == 1 ? "" : "s")
                                + " counted, not reported (--all-errors reports them)"));
        for (DmaFinding f : checks) {
            o.println("  ! " + f.severity().name().toLowerCase(java.util.Locale.ROOT) + " "
                    + f.category().id() + " on " + f.device() + " (" + f.driver() + ")"
                    + (f.category().dmaDebug() ? " [dma-debug]" : ""));
            o.println("    " + f.message().replace("\n", "\n    "));
            o.println("    at:   " + f.call()
                    + (f.callChain().isEmpty() ? "" : " in " + String.join(" <- ", f.callChain())) + ", "
                    + Units.micros(f.timeNs()));
            o.println("    why:  " + f.explanation());
            o.println("    fix:  " + f.fix());
            o.println("    bites on: "
                    + String.join(", ", Hazards.bitesOn(f.category().hazard())));
        }
    }

    static ArrayNode toJson(List<DmaFinding> checks) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (DmaFinding f : checks) {
            ObjectNode n = a.addObject();
            n.put("category", f.category().id());
            n.put("severity", f.severity().name().toLowerCase(java.util.Locale.ROOT));
            n.put("dma_debug", f.category().dmaDebug());
            n.put("device", f.device());
            n.put("driver", f.driver());
            n.put("dma_addr", f.dmaAddr() == -1 ? null : Bits.hex0x(f.dmaAddr()));
            n.put("size", f.size());
            n.put("phys", f.phys() == -1 ? null : Bits.hex0x(f.phys()));
            n.put("call", f.call());
            ArrayNode chain = n.putArray("call_chain");
            f.callChain().forEach(chain::add);
            n.put("message", f.message());
            n.put("explanation", f.explanation());
            n.put("fix", f.fix());
            n.put("time_ns", f.timeNs());
            n.put("cpu", f.cpu());
            ArrayNode bites = n.putArray("bites_on");
            Hazards.bitesOn(f.category().hazard()).forEach(bites::add);
        }
        return a;
    }
}
