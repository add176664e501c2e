# Sourced by the ablation scripts. run NAME [FLAGS…]: one training run of "$MAVIN" train "${C[@]}" into
# "$ABL/NAME.safetensors", skipped when finished (NAME.done), resumed when it stopped part-way, else started.
run() {
  local name=$1
  shift
  [ -f "$ABL/$name.done" ] && return
  if [ -f "$ABL/$name.safetensors.state.safetensors" ]; then
    "$MAVIN" train "${C[@]}" --out "$ABL/$name.safetensors" --resume "$@"
  else
    "$MAVIN" train "${C[@]}" --out "$ABL/$name.safetensors" "$@"
  fi
  touch "$ABL/$name.done"
}
