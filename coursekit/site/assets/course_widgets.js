/* The course's widgets on its website, without a kernel (coursekit/site/staging.py writes them).
 *
 * Each .course-widget holds its controls (range inputs, buttons), the picture of its starting state
 * and a JSON manifest: the pictures the widget drew in the kernel, and which picture each state of
 * the controls shows ("toggle indices|slider indices"). Moving a control swaps the picture.
 * Pictures load lazily: only the starting one with the page; the rest once the widget scrolls into
 * view or the reader reaches for it (pointer, focus, touch), nearest first, four at a time, and stay
 * referenced, so a move shows a picture already decoded (data-preloaded is set when all are). data-mode="each": a control moves with the others at their starting values (the others
 * go back there when one moves). Sliders whose positions depend on a toggle (their range changes
 * with it) keep their relative position when it changes.
 */
(() => {
  "use strict";

  function setup(root) {
    const manifest = JSON.parse(root.querySelector("script.course-widget-manifest").textContent);
    let img = root.querySelector("img.course-widget-frame");
    const groups = [...root.querySelectorAll("[data-toggle]")];
    const inputs = [...root.querySelectorAll("input[data-slider]")];
    const outputs = inputs.map((input) => input.parentElement.querySelector("output"));
    const each = manifest.mode === "each";
    const startToggles = manifest.toggles.map((t) => t.initial);
    let toggles = startToggles.slice();
    let sliders = defs(toggles).map((d) => d.initial);
    const decoded = new Map();
    const images = new Map();
    let preloading = false;

    function defs(t) {
      return manifest.slider_defs[t.join(",")] || Object.values(manifest.slider_defs)[0];
    }
    function key() {
      return toggles.join(",") + "|" + sliders.join(",");
    }
    function url(index) {
      return manifest.base + manifest.frames[index];
    }
    function load(index) {
      // the Image objects stay referenced (kept in `images`): the browser keeps them decoded, so a
      // move shows its picture at once instead of decoding it again
      if (!decoded.has(index)) {
        const image = new Image();
        image.decoding = "async";
        image.src = url(index);
        images.set(index, image);
        decoded.set(index, image.decode().catch(() => undefined));
      }
      return decoded.get(index);
    }
    function preload() {
      if (preloading) return;
      preloading = true;
      const order = manifest.frames.map((_, i) => i);
      const now = manifest.states[key()];
      order.sort((a, b) => Math.abs(a - now) - Math.abs(b - now));
      let next = 0;
      const step = () => {  // a few at a time, so a move's own picture never waits behind them
        const batch = order.slice(next, next + 4);
        next += 4;
        if (batch.length) Promise.all(batch.map(load)).then(step);
        else root.dataset.preloaded = String(performance.now());
      };
      step();
    }
    function show(index) {
      // the preloaded, decoded picture itself takes the place of the one shown (setting the shown
      // element's src instead would make the browser decode the file again)
      const next = images.get(index);
      if (next === img) return;
      for (const name of ["class", "width", "height", "alt"]) next.setAttribute(name, img.getAttribute(name));
      next.setAttribute("src", url(index));
      img.replaceWith(next);
      img = next;
    }
    function render() {
      const d = defs(toggles);
      groups.forEach((group, g) => {
        group.querySelectorAll("button").forEach((button) => {
          button.setAttribute("aria-pressed", String(Number(button.dataset.index) === toggles[g]));
        });
      });
      inputs.forEach((input, s) => {
        input.max = String(d[s].labels.length - 1);
        input.value = String(sliders[s]);
        input.disabled = d[s].disabled;
        outputs[s].textContent = d[s].readout ? d[s].labels[sliders[s]] : "";
      });
      const state = key();
      const index = manifest.states[state];
      root.dataset.state = state;
      if (index === undefined) {
        console.error(`course widget ${root.id}: no picture for the state ${state}`);
        return;
      }
      root.dataset.pending = String(index);
      load(index).then(() => {
        if (root.dataset.pending === String(index)) {
          show(index);
          root.dataset.frame = String(index);
        }
      });
    }
    function moveToggle(g, value) {
      preload();
      const before = defs(toggles);
      if (each) {
        toggles = startToggles.slice();
      }
      toggles[g] = value;
      const after = defs(toggles);
      sliders = sliders.map((k, s) => {
        if (each) return after[s].initial;
        const n = before[s].labels.length - 1;
        const m = after[s].labels.length - 1;
        return n > 0 ? Math.round((k / n) * m) : after[s].initial;
      });
      render();
    }
    function moveSlider(s, value) {
      preload();
      if (each) {
        toggles = startToggles.slice();
        sliders = defs(toggles).map((d) => d.initial);
      }
      sliders[s] = value;
      render();
    }
    groups.forEach((group, g) => {
      group.addEventListener("click", (event) => {
        const button = event.target.closest("button");
        if (button) moveToggle(g, Number(button.dataset.index));
      });
    });
    inputs.forEach((input, s) => {
      input.addEventListener("input", () => moveSlider(s, Number(input.value)));
    });
    for (const type of ["pointerenter", "focusin", "touchstart"]) {
      root.addEventListener(type, preload, { passive: true, once: true });
    }
    if ("IntersectionObserver" in window) {  // or once the widget scrolls into view
      const seen = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          seen.disconnect();
          preload();
        }
      }, { threshold: 0.3 });
      seen.observe(root);
    }
    root.dataset.frame = String(manifest.states[key()]);
    root.dataset.state = key();
    root.classList.add("course-widget-ready");
  }

  function start() {
    document.querySelectorAll(".course-widget").forEach((root) => {
      try {
        setup(root);
      } catch (error) {
        console.error(`course widget ${root.id}: ${error}`);
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
