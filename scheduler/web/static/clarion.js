// Offers the browser's own time zone in the calendar's zone picker.
document.addEventListener("DOMContentLoaded", function () {
  var option = document.querySelector("option[data-browser-zone]");
  if (!option || !window.Intl) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) { return; }
  var select = option.parentElement;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { option.remove(); return; }
  }
  option.value = zone;
  option.textContent = zone + " (your browser's zone)";
  option.hidden = false;
});
