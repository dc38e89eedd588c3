// Every api function called through supabase-js, typed by ../database.types.ts.
// `tsc --noEmit --strict -p contract/examples` checks it (tests/acceptance/test_typescript_types.py):
// a renamed argument, a changed type or a removed function breaks this file.
import { createClient } from "@supabase/supabase-js"
import type { Database, Json } from "../database.types.js"

const supabase = createClient<Database>("https://project.supabase.co", "anon-key")
const api = supabase.schema("api")
const mentorId = "6f1c2a8e-3b7d-4c1e-9a2f-5d8e7b6c4a31"

export async function everyRpc(): Promise<void> {
  const status = await api.rpc("get_current_status", { mentor_id: mentorId })
  const current: Json | null = status.data

  const paused = await api.rpc("activate_pause", {
    mentor_id: mentorId,
    reason: "parental leave",
    expected_return_date: "2027-03-01",
    force: false,
    idempotency_key: "0b5c7d1e-2f3a-4b6c-8d9e-1a2b3c4d5e6f",
  })
  const pausedShort = await api.rpc("activate_pause", { mentor_id: mentorId, reason: "exams" })

  const lifted = await api.rpc("lift_pause", { mentor_id: mentorId, reason: "back early" })
  const reactivated = await api.rpc("reactivate_mentor", { mentor_id: mentorId })
  const expired = await api.rpc("auto_expire_for_certification", { mentor_id: mentorId })

  const sweep = await api.rpc("expire_lapsed_certifications", { batch_size: 100 })
  const expiredCount: number | null = sweep.data
  await api.rpc("expire_lapsed_certifications")

  const history = await api.rpc("get_pause_history", { mentor_id: mentorId })

  const list = await api.rpc("get_paused_mentors", { coordinator_id: mentorId })
  const rows: Json[] | null = list.data
  await api.rpc("get_paused_mentors")

  const allowed = await api.rpc("is_transition_allowed", {
    current_status: "active",
    target_status: "paused",
  })
  const permitted: boolean | null = allowed.data

  for (const response of [status, paused, pausedShort, lifted, reactivated, expired, history]) {
    if (response.error) console.error(response.error.code, response.error.message)
  }
  console.log(current, expiredCount, rows, permitted)
}
