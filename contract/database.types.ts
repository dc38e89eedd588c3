// The api schema as supabase-js types, in the shape `supabase gen types typescript`
// prints. Generated, do not edit: `pyproj-rpc contract typescript` writes it from a database
// migrated to head; the test suite fails when it is stale.

export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  api: {
    Tables: {
      [_ in never]: never
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      activate_pause: {
        Args: {
          expected_return_date?: string
          force?: boolean
          idempotency_key?: string
          mentor_id: string
          reason: string
        }
        Returns: Json
      }
      auto_expire_for_certification: {
        Args: {
          mentor_id: string
        }
        Returns: Json
      }
      expire_lapsed_certifications: {
        Args: {
          batch_size?: number
        }
        Returns: number
      }
      get_current_status: {
        Args: {
          mentor_id: string
        }
        Returns: Json
      }
      get_pause_history: {
        Args: {
          mentor_id: string
        }
        Returns: Json
      }
      get_paused_mentors: {
        Args: {
          coordinator_id?: string
        }
        Returns: Json[]
      }
      is_transition_allowed: {
        Args: {
          current_status: string
          target_status: string
        }
        Returns: boolean
      }
      lift_pause: {
        Args: {
          idempotency_key?: string
          mentor_id: string
          reason?: string
        }
        Returns: Json
      }
      reactivate_mentor: {
        Args: {
          idempotency_key?: string
          mentor_id: string
          reason?: string
        }
        Returns: Json
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

export const Constants = {
  api: {
    Enums: {},
  },
} as const
