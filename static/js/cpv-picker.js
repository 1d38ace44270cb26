// The category picker (templates/_macros/cpv_picker.html): the matches follow the words as they
// are typed, so the Search button is not needed. Without this script the button sends the page
// back with the matches, which is why the page works the same without JavaScript.
const PAUSE_MS = 250;

function enhance(picker) {
  const search = picker.querySelector("[data-picker-search]");
  const button = picker.querySelector("[data-picker-button]");
  const matches = picker.querySelector("[data-picker-matches]");
  const status = picker.querySelector("[data-picker-status]");
  let timer = null;
  let asked = 0;

  async function refresh() {
    const chosen = matches.querySelector("input[type=radio]:checked");
    const query = new URLSearchParams({ q: search.value.trim(), chosen: chosen ? chosen.value : "" });
    const ask = ++asked;
    let response;
    try {
      response = await fetch(`${picker.dataset.matchesUrl}?${query}`, { credentials: "same-origin" });
    } catch {
      return; // offline: the Search button still works
    }
    if (!response.ok || ask !== asked) return; // a later answer is on its way
    matches.innerHTML = await response.text();
    const result = matches.querySelector("[data-picker-result]");
    status.textContent = result ? result.dataset.pickerResult : "";
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, PAUSE_MS);
  }

  function now(event) {
    event.preventDefault(); // search, rather than send the whole page
    clearTimeout(timer);
    refresh();
  }

  search.addEventListener("input", soon);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") now(event);
  });
  button.addEventListener("click", now);
}

document.querySelectorAll("[data-module='app-cpv-picker']").forEach(enhance);
